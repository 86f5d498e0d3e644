"""``orca policy check|test|show``: validate, test and inspect policies without applying them."""

from pathlib import Path
from typing import Any

import click

from orca.cli._common import existing_home, home_option, json_option, print_json


def _summary(policy: Any) -> dict[str, Any]:
    """The policy as data: allowlists, PII settings and the rules in precedence order per phase."""
    from orca.governance import PHASES, RESTRICTIVE

    doc = policy.doc
    phases: dict[str, list[dict[str, Any]]] = {}
    for phase in PHASES:
        ordered = sorted(
            policy.by_phase[phase],
            key=lambda c: (
                c.rule.action == "allow_but_flag",
                -c.rule.priority,
                -RESTRICTIVE[c.rule.action],
                c.position,
            ),
        )
        phases[phase] = [
            {
                "name": c.rule.name,
                "priority": c.rule.priority,
                "action": c.rule.action,
                "reason": c.rule.reason,
                "match": c.rule.match.model_dump(exclude_defaults=True, by_alias=True),
            }
            for c in ordered
        ]
    return {
        "source": policy.source,
        "sha256": policy.sha256,
        "tool_allowlist": doc.tool_allowlist,
        "model_allowlist": doc.model_allowlist,
        "pii": doc.pii.model_dump(),
        "rules": len(doc.rules),
        "phases": phases,
    }


def _print_summary(s: dict[str, Any]) -> None:
    click.echo(f"policy {s['source']}  sha256 {s['sha256']}")
    for name in ("tool_allowlist", "model_allowlist"):
        value = s[name]
        click.echo(f"  {name}: " + ("(none: anything)" if value is None else ", ".join(value)))
    pii = s["pii"]
    kinds = ", ".join(pii["kinds"]) if pii["enabled"] else "off"
    click.echo(f"  pii redaction ({pii['engine']}): {kinds}")
    click.echo(
        "  precedence: pii → fail-closed → allowlists → rules as listed "
        "(the first match decides; flags never loosen)"
    )
    for phase, rules in s["phases"].items():
        if not rules:
            continue
        click.echo(f"  {phase}:")
        for r in rules:
            reason = f" ({r['reason']})" if r["reason"] else ""
            click.echo(f"    {r['priority']:>4}  {r['action']:<14} {r['name']}{reason}")


@click.group("policy")
def policy() -> None:
    """Check, test and show governance policies (docs/governance.md)."""


@policy.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def check(file: Path, as_json: bool) -> None:
    """Validate FILE and explain what it would do, without applying it."""
    from orca.governance import load_policy

    summary = _summary(load_policy(file))
    if as_json:
        print_json({"ok": True, **summary})
    else:
        _print_summary(summary)
        click.echo(f"OK: {summary['rules']} rules")


@policy.command("test")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("cases", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def test(file: Path, cases: Path, as_json: bool) -> None:
    """Run the decision test cases in CASES against FILE; exit 1 if any fails."""
    from orca.governance import load_cases, load_policy, run_cases

    results = run_cases(load_policy(file), load_cases(cases))
    failed = [r for r in results if not r.passed]
    if as_json:
        print_json(
            {
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "cases": [r._asdict() for r in results],
            }
        )
    else:
        for r in results:
            click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.name}")
            for p in r.problems:
                click.echo(f"      {p}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@policy.command("show")
@home_option
@json_option
def show(home: Path | None, as_json: bool) -> None:
    """Print the policy in force for the home (mode, file, sha256, rules)."""
    from orca.governance import open_engine

    setup = open_engine(existing_home(home))
    cfg = setup.config
    current = setup.engine.policy
    doc: dict[str, Any] = {
        "mode": cfg.mode,
        "policy_file": str(cfg.policy_path),
        "exists": cfg.policy_path.exists(),
        "error": setup.error,
        "budget": cfg.budget.model_dump(exclude_none=True) if cfg.budget else None,
        "policy": _summary(current) if current is not None else None,
    }
    if as_json:
        print_json(doc)
        return
    click.echo(f"mode: {cfg.mode}")
    if current is not None:
        _print_summary(doc["policy"])
    elif setup.error:
        click.echo(f"policy file invalid, nothing loaded: {setup.error}")
    else:
        click.echo(f"no policy file at {cfg.policy_path}")
    if current is None:
        effect = (
            "every governed action is allowed"
            if cfg.mode == "open"
            else "every governed action is denied (no-policy)"
        )
        click.echo(f"in force: none — {effect}")
    if doc["budget"]:
        click.echo(f"default run budget: {doc['budget']}")
