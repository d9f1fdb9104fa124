//! The layers point one way: pure rules and shared types at the bottom, then storage,
//! then the services, then the server functions, then the pages. This test reads every
//! `crate::…` path in `src/` and fails on an import that points up a layer or closes a
//! cycle between modules, naming the file and the path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module and its layer, bottom first. A module not listed fails the test, so a new
/// one has to be placed.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("i18n", 1),
    ("queue::error", 1),
    ("queue::rules", 1),
    ("queue", 1),
    ("tracker", 1),
    ("board", 1),
    ("messages", 1),
    ("outbox", 1),
    ("whatsapp", 1),
    ("desk", 1),
    ("console", 1),
    ("analytics", 1),
    ("queue::notices", 1),
    ("storage", 2),
    ("queue::engine", 3),
    ("messaging", 3),
    ("tenant", 3),
    ("api", 4),
    ("pages", 5),
    ("lib", 6),
];

fn layer(unit: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("module `{unit}` has no layer in tests/layers.rs"))
}

/// The module a path inside the crate belongs to: the top-level module, or for `queue`
/// (pure rules beside the engine) its submodule.
fn unit_of(path: &[&str]) -> String {
    match path {
        ["queue", sub, ..] if ["engine", "rules", "notices", "error"].contains(sub) => {
            format!("queue::{sub}")
        }
        [first, ..] => (*first).to_owned(),
        [] => "lib".to_owned(),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::a::b` a file's code (not its comments) names, as the module it points at.
fn imports(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let path: Vec<&str> = tail
                .split("::")
                .map(|seg| {
                    seg.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("")
                })
                .take_while(|seg| !seg.is_empty())
                .take(2)
                .collect();
            // `crate::queue::QueueError` names the queue module, not a submodule.
            let path: Vec<&str> = match path.as_slice() {
                [first, second] if second.starts_with(char::is_uppercase) => vec![*first],
                _ => path,
            };
            if !path.is_empty() {
                found.push((unit_of(&path), path.join("::")));
            }
            rest = tail;
        }
    }
    found
}

#[test]
fn no_module_imports_from_a_layer_above_it_or_closes_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 40,
        "found only {} files under {src:?}",
        files.len()
    );
    let mut upward = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let parts: Vec<&str> = relative
            .iter()
            .map(|p| p.to_str().unwrap().trim_end_matches(".rs"))
            .filter(|p| *p != "mod")
            .collect();
        let from = unit_of(&parts);
        let source = std::fs::read_to_string(file).unwrap();
        for (to, path) in imports(&source) {
            if to == from {
                continue;
            }
            if layer(&to) > layer(&from) {
                upward.push(format!(
                    "{}: `crate::{path}` ({from} → {to})",
                    relative.display()
                ));
            }
            graph.entry(from.clone()).or_default().insert(to);
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a layer above:\n{}",
        upward.join("\n")
    );
    // Depth-first search for a cycle among the modules.
    fn visit(
        unit: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        trail: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = trail.iter().position(|u| u == unit) {
            let mut cycle = trail[at..].to_vec();
            cycle.push(unit.to_owned());
            return Some(cycle);
        }
        if !done.insert(unit.to_owned()) {
            return None;
        }
        trail.push(unit.to_owned());
        for next in graph.get(unit).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, trail, done) {
                return Some(cycle);
            }
        }
        trail.pop();
        None
    }
    let mut done = BTreeSet::new();
    for unit in graph.keys() {
        if let Some(cycle) = visit(unit, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_scanner_sees_imports_and_ignores_comments() {
    let source = "use crate::storage::Store; // not crate::pages\n\
                  let e = crate::queue::QueueError::Forbidden;\n\
                  /// see crate::api::thing\n\
                  crate::queue::engine::Engine::new(store)";
    let found: Vec<String> = imports(source).into_iter().map(|(unit, _)| unit).collect();
    assert_eq!(found, ["storage", "queue", "queue::engine"]);
}
