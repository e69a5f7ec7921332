"""Test doubles that speak the real protocols: a scripted model server (OpenAI and Anthropic over HTTP on
127.0.0.1), a scripted ACP agent (a subprocess built on the SDK's agent side), and a loopback-only network
jail for running real agent CLIs."""
