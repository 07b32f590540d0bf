//! The configuration file parsers (YAML and `.properties`) and the binding behind them:
//! the first byte picks the syntax, the rest is the file's text. Any outcome but a panic is
//! fine; errors must render.
#![no_main]

use std::path::Path;

use eureka_server::config::FileSyntax;
use eureka_server::ServerConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (syntax, name) = if selector & 1 == 0 {
        (FileSyntax::Yaml, "fuzz.yml")
    } else {
        (FileSyntax::Properties, "fuzz.properties")
    };
    match ServerConfig::load_text(syntax, Path::new(name), text) {
        Ok(loaded) => {
            let _ = loaded.warnings.join("\n");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
