//! Renders every lobby screen in both languages to PNG, for checking a
//! layout change without the kiosk: `cargo run -p ui --example screenshots
//! -- DIR [WIDTHxHEIGHT]` (default 1280x800).

use std::path::PathBuf;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        bail!("usage: screenshots DIR [WIDTHxHEIGHT]");
    };
    let (width, height) = match args.next() {
        None => (1280, 800),
        Some(size) => {
            let size = size.to_string_lossy().into_owned();
            let (w, h) = size
                .split_once('x')
                .context("size is WIDTHxHEIGHT, e.g. 1920x1080")?;
            (w.parse().context("width")?, h.parse().context("height")?)
        }
    };
    for path in ui::screenshots::render_all_at(&dir, width, height)? {
        println!("{}", path.display());
    }
    Ok(())
}
