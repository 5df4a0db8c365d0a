//! The folder tree is the architecture: files under `src/` may not import each other in a
//! circle, the three faces (`api`, `fhir`, `cds`) never import one another, and the layers
//! below them (`http`, `view`, `engine`, `knowledge`) never import a face or the middleware.
//! Read from the source itself (`crate::` and `super::` paths), as `docs/architecture.md`
//! describes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

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

/// The module path of a file: `src/http/error.rs` → `["http", "error"]`.
fn module_of(file: &str) -> Vec<String> {
    let rel = file.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file a module path names: the longest prefix that is a file.
fn file_of(files: &BTreeSet<String>, path: &[String]) -> Option<String> {
    for n in (1..=path.len()).rev() {
        let base = format!("src/{}", path[..n].join("/"));
        for candidate in [format!("{base}.rs"), format!("{base}/mod.rs")] {
            if files.contains(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// `crate::a::b` and `super::x` paths in a file's text, as module paths.
fn references(file: &str, text: &str) -> Vec<Vec<String>> {
    let here = module_of(file);
    let is_mod_file = file.ends_with("mod.rs") || file.ends_with("lib.rs");
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", {
                // `super` of a `mod.rs` is the parent of its folder; of a leaf file, its folder.
                let mut b = here.clone();
                b.pop();
                if is_mod_file {
                    b.pop();
                }
                b
            }),
        ] {
            let mut rest = line;
            while let Some(i) = rest.find(prefix) {
                let after = &rest[i + prefix.len()..];
                let path: Vec<String> = after
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or("")
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                let mut full = base.clone();
                full.extend(path);
                // `super::*` in a test module means the file itself.
                if !(prefix == "super::" && after.starts_with('*')) {
                    out.push(full);
                }
                rest = after;
            }
        }
    }
    out
}

fn graph_of(src: &Path) -> Graph {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let root = src.parent().unwrap();
    let files: BTreeSet<String> = paths
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let edges = graph.entry(file.clone()).or_default();
        for path in references(file, &text) {
            if let Some(target) = file_of(&files, &path) {
                // A module's own folder file (`mod.rs`) declaring it is not an import.
                if &target != file {
                    edges.insert(target);
                }
            }
        }
    }
    graph
}

/// Every strongly connected group of more than one file (Tarjan).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn top(file: &str) -> &str {
    let rel = file.trim_start_matches("src/");
    rel.split('/').next().unwrap().trim_end_matches(".rs")
}

#[test]
fn the_checker_finds_a_circle_it_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "pub mod x;\n").unwrap();
    std::fs::write(src.join("a/x.rs"), "use crate::b::thing;\n").unwrap();
    std::fs::write(src.join("b.rs"), "pub fn thing() { super::a::x::f(); }\n").unwrap();
    let graph = graph_of(&src);
    assert_eq!(
        circles(&graph),
        vec![vec!["src/a/x.rs".to_owned(), "src/b.rs".to_owned()]]
    );
    // Cut one arrow and the circle is gone.
    std::fs::write(src.join("b.rs"), "pub fn thing() {}\n").unwrap();
    assert!(circles(&graph_of(&src)).is_empty());
}

#[test]
fn no_file_of_src_is_in_an_import_circle() {
    let graph = graph_of(Path::new("src"));
    assert!(graph.len() > 30, "read only {} files", graph.len());
    let found = circles(&graph);
    assert!(found.is_empty(), "import circles: {found:?}");
}

#[test]
fn faces_stand_on_the_foundation_and_never_on_each_other() {
    const FACES: [&str; 4] = ["api", "fhir", "cds", "intake"];
    const MIDDLEWARE: [&str; 3] = ["security", "telemetry", "metrics"];
    const BELOW: [&str; 5] = ["http", "view", "engine", "knowledge", "fhir_resources"];
    let graph = graph_of(Path::new("src"));
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            let (a, b) = (top(from), top(to));
            if a == b {
                continue;
            }
            let face_to_face = FACES.contains(&a) && FACES.contains(&b);
            let down_to_up = BELOW.contains(&a) && (FACES.contains(&b) || MIDDLEWARE.contains(&b));
            let middleware_to_face = MIDDLEWARE.contains(&a) && FACES.contains(&b);
            if face_to_face || down_to_up || middleware_to_face {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}
