use async_trait::async_trait;
use projects_domain::ProjectName;

/// Names a project from its description (Alumia's create with a description only).
#[async_trait]
pub trait NameGenerator: Send + Sync {
    /// A name for a project so described. Errors are the caller's cue to fall back.
    async fn name_for(&self, description: &str) -> anyhow::Result<ProjectName>;
}

/// No model configured: a short name derived from the description itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct DerivedNames;

#[async_trait]
impl NameGenerator for DerivedNames {
    async fn name_for(&self, description: &str) -> anyhow::Result<ProjectName> {
        Ok(ProjectName::summarize(description))
    }
}
