//! `POST peerreplication/batch/` bodies (JSON only: the server refuses other formats) and the
//! batch answers a sender decodes: no panic, and a lossless round trip of the batch.
#![no_main]

use eureka_model::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = json::decode_replication_list_response(data) {
        let encoded = json::encode_replication_list_response(&response);
        let again = json::decode_replication_list_response(&encoded)
            .unwrap_or_else(|e| panic!("re-decoding our own answer failed: {e}"));
        assert_eq!(response, again, "round trip changed the batch answer");
    }
    let Ok(list) = json::decode_replication_list(data) else { return };
    let again = json::decode_replication_list(&json::encode_replication_list(&list))
        .unwrap_or_else(|e| panic!("re-decoding our own encoding failed: {e}"));
    assert_eq!(list, again, "round trip changed the batch");
});
