//! The function lists in the README and docs/FUNCTIONS.md are the function
//! table's, so they never drift from the code.

use cubed_task::table::listing;

fn repo_file(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_readme_lists_every_function_of_the_table() {
    let readme = repo_file("README.md");
    let begin = readme.find("<!-- functions:begin").expect("README has a `<!-- functions:begin` marker");
    let start = begin + readme[begin..].find("-->\n").expect("marker ends with -->") + 4;
    let end = readme.find("<!-- functions:end -->").expect("README has a `<!-- functions:end -->` marker");
    assert_eq!(
        &readme[start..end],
        listing::names(),
        "the README's function list differs from the table: paste the output of `cubed functions --format names` between its markers"
    );
}

#[test]
fn docs_functions_md_is_the_table() {
    assert_eq!(
        repo_file("docs/FUNCTIONS.md"),
        listing::markdown(),
        "docs/FUNCTIONS.md differs from the table: run `cubed functions --format markdown > docs/FUNCTIONS.md`"
    );
}
