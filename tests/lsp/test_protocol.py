"""A strict stdlib JSON-RPC client: every byte the server writes on stdout must be an LSP
frame (pygls' own client skips stray lines, an editor's may not), and shutdown/exit end the
process with status 0."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from pygls.uris import from_fs_path

from tests.lsp.conftest import SERVER


class RawLsp:
    def __init__(self) -> None:
        self.p = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.last_id = 0

    def send(self, method: str, params: Any = None, notify: bool = False) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            self.last_id += 1
            msg["id"] = self.last_id
        body = json.dumps(msg).encode()
        assert self.p.stdin is not None
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.p.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.p.stdout is not None
        headers = {}
        while (line := self.p.stdout.readline()) != b"\r\n":
            name, sep, value = line.decode().partition(":")
            if not sep or not line.endswith(b"\r\n"):
                raise AssertionError(f"not an LSP header: {line!r}")
            headers[name.lower()] = value.strip()
        return json.loads(self.p.stdout.read(int(headers["content-length"])))  # type: ignore[no-any-return]

    def request(self, method: str, params: Any = None) -> dict[str, Any]:
        self.send(method, params)
        while "method" in (m := self.read()) or m.get("id") != self.last_id:
            pass
        return m


def test_only_frames_on_stdout_and_a_clean_exit(tmp_path: Path) -> None:
    path = tmp_path / "rules.sla"
    path.write_text('rule "a" {\n  set level gld\n}\n', encoding="utf-8")
    c = RawLsp()
    try:
        init = c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        caps = init["result"]["capabilities"]
        for feature in ("hoverProvider", "definitionProvider", "referencesProvider"):
            assert caps[feature], feature
        assert caps["completionProvider"]["triggerCharacters"] == [" ", '"', ".", "{"]
        c.send("initialized", {}, notify=True)
        uri = from_fs_path(str(path))
        item = {"uri": uri, "languageId": "sla", "version": 1, "text": path.read_text()}
        c.send("textDocument/didOpen", {"textDocument": item}, notify=True)
        msg = c.read()
        assert msg["method"] == "textDocument/publishDiagnostics"
        codes = sorted(d["code"] for d in msg["params"]["diagnostics"])
        assert codes == ["no-level", "unknown-level"]
        bad = c.request(
            "textDocument/hover",
            {
                "textDocument": {"uri": "file:///nowhere.sla"},
                "position": {"line": 0, "character": 0},
            },
        )
        assert bad.get("result") is None and "error" not in bad  # handled, no traceback sent
        c.request("shutdown")
        c.send("exit", notify=True)
        assert c.p.wait(20) == 0
    finally:
        if c.p.poll() is None:
            c.p.kill()
            c.p.wait()
        for pipe in (c.p.stdin, c.p.stdout):
            if pipe is not None:
                pipe.close()
