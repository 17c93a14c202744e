//! `/v1/projects/{id}/workspace…`: the caller's workspace, its files, snapshots, history and
//! sessions.
//! One file per concern: the handlers and DTOs of files, snapshots and sessions; MIME inference;
//! the upload bridge; conditional headers.

mod archives;
mod conditional;
mod events;
mod files;
mod history;
mod links;
mod mime;
mod sessions;
mod snapshots;
mod upload;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(sessions::get_workspace)
        .service(files::list_files)
        .service(files::read_file)
        .service(files::head_file)
        .service(files::write_file)
        .service(files::delete_file)
        .service(snapshots::upload_blob)
        .service(snapshots::commit_snapshot)
        .service(history::list_revisions)
        .service(history::diff)
        .service(history::restore_revision)
        .service(history::commit_changes)
        .service(history::missing_blobs)
        .service(history::head_blob)
        .service(history::export_manifest)
        .service(archives::download_archive)
        .service(archives::upload_archive)
        .service(events::watch_workspace)
        .service(links::create_file_link)
        .service(links::follow_file_link)
        .service(sessions::list_sessions)
        .service(sessions::open_session)
        .service(sessions::touch_session)
        .service(sessions::close_session);
}
