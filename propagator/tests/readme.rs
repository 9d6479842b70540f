//! The README's server quick start is `examples/axum_quickstart.rs`, which `cargo test` builds:
//! this keeps the README true as the API grows.

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
const EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/axum_quickstart.rs"
));

#[test]
fn readme_server_quick_start_is_the_compiled_example() {
    let start = README
        .find("```rust\n")
        .expect("a ```rust block in the README")
        + "```rust\n".len();
    let block = &README[start..];
    let block = &block[..block.find("```").expect("the block ends")];
    assert!(
        EXAMPLE.contains(block),
        "README's rust block differs from examples/axum_quickstart.rs:\n{block}"
    );
}
