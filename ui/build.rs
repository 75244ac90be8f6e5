//! Compiles `ui/terminal.slint` into Rust and bundles the gettext translations
//! from `translations/<lang>/LC_MESSAGES/ui.po` into the binary, so the kiosk
//! needs no locale files on disk and switches language without a restart.

fn main() {
    // Strings carry no context (`@tr("...")` is looked up by its English text
    // alone), which keeps the .po files plain. Extract new strings with
    // `slint-tr-extractor --no-default-translation-context ui/*.slint`.
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/terminal.slint", config)
        .expect("ui/terminal.slint compiles");
}
