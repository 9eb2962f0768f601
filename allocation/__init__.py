"""Quota allocation (docs/allocation.md): a year's cap and its plan, free allocation by
benchmark with pre-allocation and true-up, auctions, the market-stability reserve, new entrants
and closures. Declared as a module in allocation/module.py."""
