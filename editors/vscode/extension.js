// Starts `slarules lsp` (stdio) for .sla files; highlighting comes from sla.tmLanguage.json.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const cfg = vscode.workspace.getConfiguration("slarules");
  const server = { command: cfg.get("server.command", "slarules"), args: cfg.get("server.args", ["lsp"]) };
  client = new LanguageClient("slarules", "SLA rules", server, {
    documentSelector: [{ scheme: "file", language: "sla" }, { scheme: "untitled", language: "sla" }],
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
