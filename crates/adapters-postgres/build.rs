fn main() {
    // embed_migrations! does not notice new migration folders by itself.
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
