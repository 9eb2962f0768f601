"""Keys, signatures and typed data: the lowest layer, imported before anything else of ours.

It also undoes what one dependency does to the whole process on import. py_ecc (which
eth-keys, web3 and py-evm import) raises the interpreter's recursion limit to 100,000, and at
that limit the C JSON decoder follows a hostile document's nesting until the C stack overflows
and the process dies — no exception, no message — whichever of our JSON readers it reaches. So
py_ecc is imported here first, and the limit is put back to what py-evm asks for (12,288, enough
for the EVM's 1,024 nested calls): past it, the decoder raises RecursionError, which our readers
refuse in one line. tests/test_recursion_limit.py holds it.
"""

from __future__ import annotations

import sys

import py_ecc  # noqa: F401 - imported for its effect on the recursion limit (py-evm needs it)

EVM_RECURSION_LIMIT = 1024 * 12  # eth.EVM_RECURSION_LIMIT (py-evm sets at least this)

if sys.getrecursionlimit() > EVM_RECURSION_LIMIT:
    sys.setrecursionlimit(EVM_RECURSION_LIMIT)
