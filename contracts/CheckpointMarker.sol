// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RFC9162} from "./RFC9162.sol";

/// @title CheckpointMarker
/// @notice The journal entry the ledger appends as the last leaf of the log when it cuts a
///         checkpoint. Its bytes are the RFC 8785 canonical JSON `{"checkpoint":K,"seq":S}`
///         (K the checkpoint number, S its own sequence number, that is the log size minus
///         one; decimal, no spaces, keys in RFC 8785 order), so the leaf commits to its own
///         position and the contract can rebuild it from the claimed number and size alone.
library CheckpointMarker {
    /// @notice RFC 9162 leaf hash of the marker: SHA-256(0x00 || `{"checkpoint":K,"seq":S}`).
    function leafHash(uint64 checkpoint, uint64 seq) internal view returns (bytes32 hash) {
        bool ok;
        assembly ("memory-safe") {
            // Writes `value` in decimal at `cursor`, returns the first byte after it. The digits
            // are gathered left-aligned in one word (least significant first, each new digit
            // pushed in at the top) and stored with a single mstore; the zero bytes it writes
            // past the digits are overwritten by what follows or lie outside the hashed range.
            function writeDecimal(cursor, value) -> end {
                let word := 0
                let length := 0
                for {} 1 {} {
                    word := or(shr(8, word), shl(248, add(48, mod(value, 10))))
                    length := add(length, 1)
                    value := div(value, 10)
                    if iszero(value) { break }
                }
                mstore(cursor, word)
                end := add(cursor, length)
            }

            // Built in unallocated memory; the free-memory pointer is left where it is.
            let start := mload(0x40)
            mstore(start, 0) // the RFC 9162 leaf prefix 0x00
            mstore(add(start, 1), "{\"checkpoint\":")
            // Masked: Solidity does not promise clean high bits for types under 256 bits.
            let cursor := writeDecimal(add(start, 15), and(checkpoint, 0xffffffffffffffff))
            mstore(cursor, ",\"seq\":")
            cursor := writeDecimal(add(cursor, 7), and(seq, 0xffffffffffffffff))
            mstore8(cursor, 0x7d) // "}"
            ok := staticcall(gas(), 0x02, start, sub(add(cursor, 1), start), 0x00, 0x20)
            hash := mload(0x00)
        }
        if (!ok) revert RFC9162.Sha256Failed();
    }
}
