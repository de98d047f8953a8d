"""Development tools, never in the Lambda layer: the `ttrelay` CLI and the local stack."""
