//! The name generator on an OpenAI-compatible chat completions endpoint (`LLM_BASE_URL`,
//! `LLM_API_KEY`, `LLM_MODEL`). Slow, failing or unusable answers are errors, which the use case
//! turns into `Untitled project`.

use std::time::Duration;

use anyhow::{bail, Context};
use async_trait::async_trait;
use projects_domain::ProjectName;
use projects_ports::NameGenerator;
use serde::Deserialize;
use serde_json::json;

const INSTRUCTIONS: &str = "You name projects. Reply with a short, specific project name of at most six words \
                            for the description the user gives. Reply with the name only: no quotes, no punctuation \
                            at the end, no explanation.";
/// Generated names are kept short even when the model rambles.
const MAX_NAME_CHARS: usize = 80;

/// Where the model is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
}

pub struct LlmNames {
    client: reqwest::Client,
    config: LlmConfig,
}

impl LlmNames {
    pub fn new(config: LlmConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(config.timeout).build()?;
        Ok(Self { client, config })
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
}

/// The model's answer as a project name: first line, quotes and trailing punctuation stripped.
fn name_from_answer(answer: &str) -> anyhow::Result<ProjectName> {
    let line = answer.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let name = line
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '*' | '“' | '”'))
        .trim_end_matches(['.', '!', '?', ':', ';'])
        .trim();
    if name.chars().count() > MAX_NAME_CHARS {
        bail!("the model's name is longer than {MAX_NAME_CHARS} characters");
    }
    ProjectName::new(name).map_err(|e| anyhow::anyhow!("the model's answer is not a name: {e}"))
}

#[async_trait]
impl NameGenerator for LlmNames {
    async fn name_for(&self, description: &str) -> anyhow::Result<ProjectName> {
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let body = json!({
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": description},
            ],
            "max_tokens": 24,
            "temperature": 0.2,
        });
        let mut request = self.client.post(&url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.context("the model did not answer")?;
        let status = response.status();
        if !status.is_success() {
            bail!("the model answered {status}");
        }
        let completion: Completion = response.json().await.context("the model's answer is not a completion")?;
        let content = completion
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .context("the model's answer has no content")?;
        name_from_answer(&content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-connection-at-a-time HTTP server answering every request with `body` after `delay`.
    async fn fake_model(status: &'static str, body: String, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 64 * 1024];
                    let _ = socket.read(&mut request).await;
                    tokio::time::sleep(delay).await;
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        format!("http://{address}/v1")
    }

    fn names(base_url: String) -> LlmNames {
        LlmNames::new(LlmConfig {
            base_url,
            api_key: Some("sk-test".into()),
            model: "test-model".into(),
            timeout: Duration::from_millis(500),
        })
        .unwrap()
    }

    fn completion(content: &str) -> String {
        json!({"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}).to_string()
    }

    #[tokio::test]
    async fn a_good_answer_becomes_the_name() {
        let url = fake_model("200 OK", completion("\"Q3 Launch Plan.\"\n"), Duration::ZERO).await;
        assert_eq!(names(url).name_for("plan the q3 launch").await.unwrap().as_str(), "Q3 Launch Plan");
    }

    #[tokio::test]
    async fn slow_malformed_and_failing_answers_are_errors() {
        let slow = fake_model("200 OK", completion("Too late"), Duration::from_secs(3)).await;
        assert!(names(slow).name_for("x").await.is_err());
        let not_json = fake_model("200 OK", "<html>oops</html>".into(), Duration::ZERO).await;
        assert!(names(not_json).name_for("x").await.is_err());
        let no_choices = fake_model("200 OK", json!({"choices": []}).to_string(), Duration::ZERO).await;
        assert!(names(no_choices).name_for("x").await.is_err());
        let empty = fake_model("200 OK", completion("   "), Duration::ZERO).await;
        assert!(names(empty).name_for("x").await.is_err());
        let rambling = fake_model("200 OK", completion(&"word ".repeat(40)), Duration::ZERO).await;
        assert!(names(rambling).name_for("x").await.is_err());
        let failing = fake_model("500 Internal Server Error", "{}".into(), Duration::ZERO).await;
        assert!(names(failing).name_for("x").await.is_err());
        assert!(names("http://127.0.0.1:9/v1".into()).name_for("x").await.is_err(), "nobody listening");
    }
}
