"""The betting service: in-play markets priced from live results, bet rules, settlement.

Modules: ``schemas`` (the ``betting.*`` streams), ``sports`` and ``fixtures`` (inputs),
``markets`` (market catalogue and status machine), ``pricing`` and ``margins`` (vectorised
probabilities and odds), ``feed`` (UOF-shaped messages), ``rules`` (acceptance checks) and
``settlement`` (results to payouts).
"""
