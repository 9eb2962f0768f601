// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title MinimalToken
/// @notice The smallest ERC-20-style token: balances, transfer and its event. It exists only
///         so that bench/contract_gas.py can set the gas of an anchor against the gas of one
///         token transfer compiled by the same compiler with the same settings.
contract MinimalToken {
    /// @notice The sender's balance is below the amount.
    error InsufficientBalance(uint256 balance, uint256 amount);

    event Transfer(address indexed from, address indexed to, uint256 value);

    mapping(address account => uint256 balance) public balanceOf;

    constructor(uint256 supply) {
        balanceOf[msg.sender] = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        uint256 balance = balanceOf[msg.sender];
        if (balance < amount) revert InsufficientBalance(balance, amount);
        unchecked {
            // Cannot underflow (checked above) nor overflow (the supply is fixed).
            balanceOf[msg.sender] = balance - amount;
            balanceOf[to] += amount;
        }
        emit Transfer(msg.sender, to, amount);
        return true;
    }
}
