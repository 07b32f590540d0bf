//! `POST apps/{APP}` bodies in XML: decoding never panics, our own encoding always decodes,
//! and one round trip reaches a fixed point (the XML encoder drops what XML cannot carry:
//! control characters, metadata keys that are no element names).
#![no_main]

use eureka_model::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = xml::decode_instance(data) else { return };
    let once = xml::decode_instance(&xml::encode_instance(&info))
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    let twice = xml::decode_instance(&xml::encode_instance(&once))
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    assert_eq!(once, twice, "XML round trip is not a fixed point");
});
