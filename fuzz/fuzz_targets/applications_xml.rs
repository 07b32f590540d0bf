//! `GET apps` documents in XML: no panic, our own encoding always decodes, and one round trip
//! reaches a fixed point. Also decodes the input as one `application`.
#![no_main]

use eureka_model::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xml::decode_application(data);
    let Ok(apps) = xml::decode_applications(data) else { return };
    let once = xml::decode_applications(&xml::encode_applications(&apps))
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    let twice = xml::decode_applications(&xml::encode_applications(&once))
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    assert_eq!(once, twice, "XML round trip is not a fixed point");
});
