// `npm ci` / `npm install` run this (the `prepare` script): it links node_modules/pulumi-ovh-okms to this
// checkout, so the serialized providers, which load the package by name inside the Pulumi provider host,
// find it here exactly as they do in a user's project where the package is installed.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const link = path.join(__dirname, "..", "node_modules", "pulumi-ovh-okms");
try {
    if (fs.lstatSync(link).isSymbolicLink()) {
        process.exit(0);
    }
    process.exit(0); // a real install is there: leave it alone
} catch {
    // not there yet
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync("..", link, "dir");
