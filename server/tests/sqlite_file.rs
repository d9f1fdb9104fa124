//! The SQLite file holds patients' names and phone numbers: Qline creates it, its
//! write-ahead log and the folders it makes for them readable by its own user only.
#![cfg(unix)]

use qline_app::storage::Store;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Who may do what with `path`, in octal as `ls` and `chmod` spell it: "600".
fn mode(path: &Path) -> String {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:o}", meta.permissions().mode() & 0o777)
}

/// A folder of the test's own under the system's temporary folder, not yet created.
fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("qline-{name}-{}-{nanos}", std::process::id()))
}

/// Opens the database and writes to it, so that SQLite makes its `-wal` and `-shm` files.
async fn open_and_write(file: &Path) -> Store {
    let store = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate");
    store
}

#[tokio::test]
async fn a_first_start_makes_the_database_and_its_folders_private() {
    let root = scratch("private");
    let file = root.join("data").join("qline.db");
    let store = open_and_write(&file).await;

    assert_eq!(mode(&root), "700", "the folder Qline created");
    assert_eq!(mode(&root.join("data")), "700", "the folder Qline created");
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", file.display()));
        assert_eq!(mode(&path), "600", "{}", path.display());
    }
    store.close().await;
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn a_folder_the_operator_made_keeps_its_mode_and_the_file_is_still_private() {
    let root = scratch("existing");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = root.join("qline.db");
    let store = open_and_write(&file).await;

    assert_eq!(mode(&root), "755");
    assert_eq!(mode(&file), "600");
    store.close().await;
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn an_in_memory_database_makes_no_file() {
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(".")
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let store = Store::connect("sqlite::memory:")
        .await
        .expect("open in memory");
    store.migrate().await.expect("migrate");
    store.close().await;
    assert_eq!(listing(), before);
}
