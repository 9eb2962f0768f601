// Compiles the contracts offline with the pinned solc-js (package.json) through its standard-JSON
// interface and writes one artifact per contract. The output depends only on the sources and the
// settings below, so a rebuild is byte-for-byte identical to the committed artifacts.
//
//   node contracts/build.mjs              write the artifacts next to their sources
//   node contracts/build.mjs --out DIR    write them under DIR instead (same relative paths)
//   node contracts/build.mjs --check      exit 1 if a committed artifact differs from a rebuild

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const here = dirname(fileURLToPath(import.meta.url));

// Source-unit names are fixed and relative to contracts/, so neither the checkout's location nor
// the working directory reaches the metadata (and with it the bytecode).
const SOURCES = [
  "AnchorRegistry.sol",
  "CheckpointMarker.sol",
  "RFC9162.sol",
  "test/MinimalToken.sol",
  "test/RFC9162Harness.sol",
];

// Contracts that get an artifact: [source unit, contract name].
const ARTIFACTS = [
  ["AnchorRegistry.sol", "AnchorRegistry"],
  ["test/MinimalToken.sol", "MinimalToken"],
  ["test/RFC9162Harness.sol", "RFC9162Harness"],
];

const SETTINGS = {
  // py-evm runs forks up to Prague; solc 0.8.37 would default to Osaka.
  evmVersion: "prague",
  viaIR: true,
  optimizer: { enabled: true, runs: 10000 },
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
  },
};

function compile() {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(
      SOURCES.map((unit) => [unit, { content: readFileSync(join(here, unit), "utf8") }]),
    ),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors ?? [];
  for (const diagnostic of diagnostics) {
    process.stderr.write(diagnostic.formattedMessage ?? `${diagnostic.message}\n`);
  }
  // Warnings fail the build too: they are cheap to fix now and easy to miss later.
  if (diagnostics.length > 0) {
    throw new Error(`solc reported ${diagnostics.length} diagnostic(s)`);
  }
  return output;
}

function artifacts(output) {
  const settings = { ...SETTINGS };
  delete settings.outputSelection;
  return ARTIFACTS.map(([unit, name]) => {
    const contract = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      sourceName: unit,
      compiler: { name: "solc-js", version: solc.version() },
      settings,
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    };
    const path = unit.replace(/\.sol$/, ".json");
    return [path, `${JSON.stringify(artifact, null, 2)}\n`];
  });
}

function main(argv) {
  const check = argv.includes("--check");
  const outIndex = argv.indexOf("--out");
  const outDir = outIndex >= 0 ? argv[outIndex + 1] : here;
  const built = artifacts(compile());
  let stale = 0;
  for (const [path, text] of built) {
    const target = join(outDir, path);
    if (check) {
      let committed = "";
      try {
        committed = readFileSync(target, "utf8");
      } catch {
        // a missing artifact is stale
      }
      if (committed !== text) {
        process.stderr.write(`stale: contracts/${path}\n`);
        stale += 1;
      }
    } else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      process.stdout.write(`wrote ${target}\n`);
    }
  }
  if (stale > 0) process.exit(1);
}

main(process.argv.slice(2));
