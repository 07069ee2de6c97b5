"""The betting service: in-play markets priced from live results, the bet engine, settlement.

Contracts: ``schemas`` (the public ``betting.*`` streams) and ``messages`` (the internal ones).
Pure parts: ``sports`` and ``fixtures`` (inputs), ``markets`` (catalogue and status machine),
``pricing`` and ``margins`` (vectorised probabilities and odds), ``feed`` (UOF-shaped messages),
``rules`` (acceptance checks), ``settlement`` (results to payouts), ``money`` (ledger requests),
``readings`` (what results units say). Processors: ``processors`` (wiring), ``trading`` with
``book`` and ``legs`` (per event), ``tickets`` with ``ticket_records`` and ``payouts`` (per
customer). Queries: ``views`` and ``routes``. Settings: ``config``.
"""

PUBLIC = ("schemas",)
"""The published contract (see CONTRIBUTING.md): the public ``betting.*`` payloads only;
``messages`` is the service's own."""
