//! `GET apps` documents in JSON (what the client and the start-up sync decode): no panic, and
//! a lossless encode → decode round trip. Also decodes the input as one `application`.
#![no_main]

use eureka_model::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = json::decode_application(data);
    let Ok(apps) = json::decode_applications(data) else { return };
    let again = json::decode_applications(&json::encode_applications(&apps))
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    assert_eq!(apps, again, "JSON round trip changed the applications");
});
