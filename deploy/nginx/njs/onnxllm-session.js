// Session key from the request body, for clients that name their session only there
// (nginx core can hash headers, not JSON fields). Used by deploy/nginx/onnxllm.conf
// when no session header is present. Evaluated once nginx has read the body (proxy
// request buffering, the body held in memory by client_body_buffer_size).
function str(v) {
    return typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : null;
}

function key(r) {
    let body;
    try {
        body = r.requestText;
    } catch (e) {
        body = null; // not in memory (larger than client_body_buffer_size)
    }
    if (body && body.length > 0 && body.charCodeAt(0) === 123 /* { */) {
        let j = null;
        try {
            j = JSON.parse(body);
        } catch (e) {
            j = null;
        }
        if (j && typeof j === 'object') {
            // OpenAI Responses / Chat: the cache key the client chose (Codex: its session).
            let k = str(j.prompt_cache_key);
            if (k) return k;
            // Anthropic Messages: metadata.user_id; Claude Code puts a JSON object with
            // its session_id there (the same as X-Claude-Code-Session-Id).
            const md = j.metadata;
            if (md && typeof md === 'object' && str(md.user_id)) {
                const u = md.user_id;
                if (u.charCodeAt(0) === 123) {
                    try {
                        const o = JSON.parse(u);
                        if (o && str(o.session_id)) return o.session_id;
                    } catch (e) { /* a plain string */ }
                }
                return u;
            }
            // OpenAI: `user` (deprecated) and `safety_identifier` name the end user.
            k = str(j.user) || str(j.safety_identifier);
            if (k) return k;
        }
    }
    return r.remoteAddress;
}

export default { key };
