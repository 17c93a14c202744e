//! What a file is: `Content-Type` from its extension, else sniffed from its first bytes.

use bytes::Bytes;
use futures::StreamExt;
use projects_ports::ByteStream;

/// `text/*` and the textual application types get `; charset=utf-8`.
pub(super) fn with_charset(mime: &mime_guess::Mime) -> String {
    let textual = mime.type_() == "text" || matches!(mime.subtype().as_str(), "json" | "xml" | "javascript");
    if textual {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    }
}

/// Source files that the MIME registry does not know but that are plain text.
const TEXT_EXTENSIONS: &[&str] = &[
    "go", "rs", "py", "rb", "php", "java", "kt", "kts", "scala", "swift", "c", "h", "cc", "cpp", "hpp", "cs", "ts",
    "tsx", "jsx", "vue", "svelte", "sh", "bash", "zsh", "toml", "yaml", "yml", "ini", "cfg", "conf", "env", "sql",
    "gradle", "lua", "r", "dart", "ex", "exs", "erl", "hs", "ml", "clj", "proto", "graphql", "lock", "log",
];

pub(super) fn mime_from_extension(path: &str) -> Option<String> {
    if let Some(mime) = mime_guess::from_path(path).first() {
        return Some(with_charset(&mime));
    }
    let extension = std::path::Path::new(path).extension()?.to_str()?.to_ascii_lowercase();
    TEXT_EXTENSIONS.contains(&extension.as_str()).then(|| "text/plain; charset=utf-8".to_owned())
}

/// Text (valid UTF-8, no NUL) or binary, from the first bytes.
pub(super) fn sniff(first: &[u8]) -> String {
    let valid = match std::str::from_utf8(first) {
        Ok(_) => true,
        // A character cut at the end of the sample is still text.
        Err(err) => err.error_len().is_none(),
    };
    if valid && !first.contains(&0) {
        "text/plain; charset=utf-8".to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

/// The first chunk of a stream, and the stream with it put back.
pub(super) async fn peek(mut body: ByteStream) -> (Bytes, ByteStream) {
    match body.next().await {
        Some(Ok(first)) => {
            let again = first.clone();
            (first, futures::stream::once(async move { Ok(again) }).chain(body).boxed())
        }
        Some(Err(err)) => (Bytes::new(), futures::stream::once(async move { Err(err) }).boxed()),
        None => (Bytes::new(), futures::stream::empty().boxed()),
    }
}
