#!/usr/bin/env python3
"""make_pyjson_fixture.py — expected json.dumps(json.loads(text)) for number and string
edge cases (issue 12 #16), the bytes Phi-4 sees for tool schemas.

    python3 tests/chat/make_pyjson_fixture.py > tests/chat/fixtures/pyjson_expected.json
"""
import json

inputs = [
    '[-0.0, 0.0, -0, 0, 1.0, 1, 1.5, -2.50, 1e2, 1E2, 1e-7, 1.0e16, 123456789012345678901234567890]',
    '[9007199254740993, -9007199254740993, 18446744073709551616, 0.1, 1e400, -1e400, 5e-324, 1e-400]',
    '{"minimum": -0.0, "maximum": 1e3, "multipleOf": 0.01, "default": 10000000000000000000}',
    '{"a": 1, "b": 2, "a": 3.0}',
    '{"type": "object", "properties": {"n": {"type": "integer", "minimum": -0, "maximum": 2.0e0}}}',
    '["\\u00e9\\ud83d\\ude00", "tab\\tnl\\n", "\\u007f\\u0080", "quote\\"back\\\\"]',
]
print(json.dumps([{"input": t, "dumps": json.dumps(json.loads(t))} for t in inputs], indent=1))
