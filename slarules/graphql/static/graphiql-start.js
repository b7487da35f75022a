// Starts the vendored GraphiQL 4 (UMD globals React, ReactDOM, GraphiQL) on this endpoint.
// A file rather than an inline script, so the page's CSP can say script-src 'self'.
"use strict";
(function start() {
  const url = location.origin + location.pathname;
  const token = localStorage.getItem("slarules.token"); // the board's token, if one is kept
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const fetcher = GraphiQL.createFetcher({
    url,
    subscriptionUrl: url.replace(/^http/, "ws"),
    headers,
    wsConnectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }),
  );
})();
