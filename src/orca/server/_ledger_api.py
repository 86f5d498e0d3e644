"""The ledger under ``/api/v1/ledger``: entries, an inclusion proof, the latest checkpoint.

Read straight from the ledger file (as ``orca ledger tail|prove|checkpoints``
do), not from the store's mirror, so what is served is what is signed — and
each route returns what the matching CLI command prints with ``--json``.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from orca.ledger import ProofError, prove_inclusion, read_checkpoints, read_entries
from orca.server import _models as m
from orca.server._responses import JSONOut

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
MAX_ENTRIES = 1000


@router.get("/entries", response_model=list[m.LedgerEntry], summary="Signed entries, oldest first")
def entries(
    request: Request,
    run: Annotated[str | None, Query(max_length=256)] = None,
    after: Annotated[int, Query(ge=0, description="Only entries with a larger id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 100,
) -> JSONOut:
    """``orca ledger tail --json``'s shape; page with ``after`` = the last id you saw."""
    out = []
    for e in read_entries(request.app.state.config.home).entries:
        if e.id <= after or (run is not None and e.run != run):
            continue
        out.append(e.to_dict())
        if len(out) >= limit:
            break
    return JSONOut(out)


@router.get("/proof/{entry_id}", response_model=m.ProofDoc, summary="Inclusion proof of an entry")
def proof(request: Request, entry_id: Annotated[int, Path(ge=1, le=2**62)]) -> JSONOut:
    """``orca ledger prove ID --json``: the entry's audit path to the latest signed checkpoint."""
    return JSONOut(prove_inclusion(request.app.state.config.home, entry_id).to_dict())


@router.get("/checkpoint", response_model=m.Checkpoint, summary="The latest checkpoint")
def checkpoint(request: Request) -> JSONOut:
    """The newest signed tree head (``orca ledger checkpoints --json``'s last item)."""
    ckpts, _ = read_checkpoints(request.app.state.config.home)
    if not ckpts:
        raise ProofError("the ledger has no checkpoint yet; one is written as entries arrive")
    return JSONOut(ckpts[-1].to_dict())
