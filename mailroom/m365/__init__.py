"""Microsoft 365: app-only tokens (``tokens``) and sending through Microsoft Graph
(``graph_send``). docs/microsoft-365.md.

Kept free of imports: msal and httpx load only when a token or a Graph request is
needed, never for a staff command."""
