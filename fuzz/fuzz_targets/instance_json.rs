//! `POST apps/{APP}` bodies in JSON: decoding never panics, and what decodes survives
//! encode → decode unchanged (the JSON encoder writes every field the decoder reads).
#![no_main]

use eureka_model::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = json::decode_instance(data) else { return };
    let encoded = json::encode_instance(&info);
    let again = json::decode_instance(&encoded)
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    assert_eq!(info, again, "JSON round trip changed the instance");
});
