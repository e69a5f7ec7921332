"""Wire shapes of the two model APIs: one scripted ``Turn`` rendered as OpenAI chat-completions or Anthropic
messages, streamed (SSE) or whole."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """A tool call the scripted model makes (``name`` as the agent spells its tool)."""

    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class Turn:
    """One scripted answer. ``status`` != 200 answers an error; ``hang`` never answers; ``break_stream``
    sends the 200 header and one chunk, then ends the stream cleanly (no finish, no usage, no [DONE]), as
    llama-cpp-python did when it raised after its header; ``drop_connection`` cuts the socket instead."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 120
    output_tokens: int = 30
    cached_tokens: int = 0
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    error_message: str = "scripted failure"
    hang: bool = False
    break_stream: bool = False
    drop_connection: bool = False
    delay_s: float = 0.0


def _sse(data: Mapping[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def _pieces(text: str, size: int = 24) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def openai_error(turn: Turn) -> dict[str, Any]:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(turn.status, "server_error")
    return {"error": {"message": turn.error_message, "type": kind, "code": turn.status}}


def anthropic_error(turn: Turn) -> dict[str, Any]:
    kind = {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}.get(
        turn.status, "invalid_request_error" if turn.status == 400 else "api_error"
    )
    return {"type": "error", "error": {"type": kind, "message": turn.error_message}}


def _openai_usage(turn: Turn) -> dict[str, Any]:
    prompt = turn.input_tokens + turn.cached_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": turn.output_tokens,
        "total_tokens": prompt + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.cached_tokens},
    }


def openai_whole(turn: Turn, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for i, c in enumerate(turn.tool_calls)
        ]
    reason = "tool_calls" if turn.tool_calls else "stop"
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": reason}],
        "usage": _openai_usage(turn),
    }


def openai_stream(turn: Turn, model: str) -> Iterator[bytes]:
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk", "model": model}

    def chunk(delta: dict[str, Any], reason: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]})

    yield chunk({"role": "assistant", "content": ""})
    if turn.text:
        for piece in _pieces(turn.text):
            yield chunk({"content": piece})
    for index, call in enumerate(turn.tool_calls):
        head = {"index": index, "id": f"call_{uuid.uuid4().hex[:8]}", "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
        for piece in _pieces(json.dumps(call.arguments)):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls" if turn.tool_calls else "stop")
    yield _sse({**base, "choices": [], "usage": _openai_usage(turn)})
    yield b"data: [DONE]\n\n"


def _anthropic_blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:12]}",
                "name": call.name,
                "input": call.arguments,
            }
        )
    return blocks


def _anthropic_usage(turn: Turn, output: int) -> dict[str, Any]:
    return {
        "input_tokens": turn.input_tokens,
        "output_tokens": output,
        "cache_read_input_tokens": turn.cached_tokens,
        "cache_creation_input_tokens": 0,
    }


def anthropic_whole(turn: Turn, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _anthropic_blocks(turn),
        "stop_reason": "tool_use" if turn.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(turn, turn.output_tokens),
    }


def anthropic_stream(turn: Turn, model: str) -> Iterator[bytes]:
    message = {**anthropic_whole(turn, model), "content": [], "stop_reason": None}
    message["usage"] = _anthropic_usage(turn, 1)
    yield _sse({"type": "message_start", "message": message}, "message_start")
    for index, block in enumerate(_anthropic_blocks(turn)):
        yield from _anthropic_block(index, block)
    reason = "tool_use" if turn.tool_calls else "end_turn"
    delta = {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None}}
    yield _sse({**delta, "usage": {"output_tokens": turn.output_tokens}}, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")


def _anthropic_block(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    if block["type"] == "text":
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
    else:
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": p} for p in _pieces(json.dumps(block["input"]))
        ]
    yield _sse({"type": "content_block_start", "index": index, "content_block": start}, "content_block_start")
    for delta in deltas:
        yield _sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
    yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
