//! Golden fixtures: encoding a hand-built value gives the fixture's exact bytes, and decoding
//! the fixture gives the value back. The fixtures were written by hand from protocol §2.2,
//! §2.4, §2.8 and §2.9 (compact, no trailing newline).

mod common;

use common::*;
use eureka_model::{json, xml, Format};

/// Compares as text so a mismatch shows a readable diff.
fn assert_bytes(actual: Vec<u8>, fixture_name: &str) {
    let expected = fixture(fixture_name);
    assert_eq!(
        String::from_utf8(actual).expect("encoder output is UTF-8"),
        String::from_utf8(expected).expect("fixture is UTF-8"),
        "encoding differs from tests/fixtures/{fixture_name}"
    );
}

#[test]
fn json_instance() {
    assert_bytes(json::encode_instance(&register_orders()), "instance.json");
    assert_eq!(json::decode_instance(&fixture("instance.json")).unwrap(), register_orders());
}

#[test]
fn json_amazon_instance() {
    assert_bytes(json::encode_instance(&amazon_catalog()), "instance_amazon.json");
    assert_eq!(json::decode_instance(&fixture("instance_amazon.json")).unwrap(), amazon_catalog());
}

#[test]
fn json_application() {
    assert_bytes(json::encode_application(&orders_application()), "application.json");
    assert_eq!(
        json::decode_application(&fixture("application.json")).unwrap(),
        orders_application()
    );
}

#[test]
fn json_full_registry() {
    assert_bytes(json::encode_applications(&full_registry()), "apps_full.json");
    assert_eq!(json::decode_applications(&fixture("apps_full.json")).unwrap(), full_registry());
}

#[test]
fn json_empty_registry() {
    assert_bytes(json::encode_applications(&empty_registry()), "apps_empty.json");
    assert_eq!(json::decode_applications(&fixture("apps_empty.json")).unwrap(), empty_registry());
}

#[test]
fn json_delta() {
    assert_bytes(json::encode_applications(&delta_registry()), "apps_delta.json");
    assert_eq!(json::decode_applications(&fixture("apps_delta.json")).unwrap(), delta_registry());
}

#[test]
fn json_replication_list() {
    assert_bytes(json::encode_replication_list(&replication_list()), "replication_list.json");
    assert_eq!(
        json::decode_replication_list(&fixture("replication_list.json")).unwrap(),
        replication_list()
    );
}

#[test]
fn json_replication_response() {
    assert_bytes(
        json::encode_replication_list_response(&replication_response()),
        "replication_response.json",
    );
    assert_eq!(
        json::decode_replication_list_response(&fixture("replication_response.json")).unwrap(),
        replication_response()
    );
}

#[test]
fn xml_instance() {
    assert_bytes(xml::encode_instance(&register_orders()), "instance.xml");
    assert_eq!(xml::decode_instance(&fixture("instance.xml")).unwrap(), register_orders());
}

#[test]
fn xml_amazon_instance_omits_metadata_keys_that_are_not_xml_names() {
    assert_bytes(xml::encode_instance(&amazon_catalog()), "instance_amazon.xml");
    let mut expected = amazon_catalog();
    expected.metadata.remove("quote\"d");
    assert_eq!(xml::decode_instance(&fixture("instance_amazon.xml")).unwrap(), expected);
}

#[test]
fn xml_application() {
    assert_bytes(xml::encode_application(&orders_application()), "application.xml");
    assert_eq!(xml::decode_application(&fixture("application.xml")).unwrap(), orders_application());
}

#[test]
fn xml_full_registry() {
    assert_bytes(xml::encode_applications(&full_registry()), "apps_full.xml");
    assert_eq!(xml::decode_applications(&fixture("apps_full.xml")).unwrap(), full_registry());
}

#[test]
fn xml_empty_registry() {
    assert_bytes(xml::encode_applications(&empty_registry()), "apps_empty.xml");
    assert_eq!(xml::decode_applications(&fixture("apps_empty.xml")).unwrap(), empty_registry());
}

#[test]
fn xml_delta() {
    assert_bytes(xml::encode_applications(&delta_registry()), "apps_delta.xml");
    assert_eq!(xml::decode_applications(&fixture("apps_delta.xml")).unwrap(), delta_registry());
}

#[test]
fn format_dispatcher_uses_the_matching_codec() {
    let apps = full_registry();
    for (format, ext) in [(Format::Json, "json"), (Format::Xml, "xml")] {
        assert_bytes(format.encode_applications(&apps), &format!("apps_full.{ext}"));
        assert_bytes(format.encode_instance(&register_orders()), &format!("instance.{ext}"));
        assert_bytes(
            format.encode_application(&orders_application()),
            &format!("application.{ext}"),
        );
        let body = fixture(&format!("apps_full.{ext}"));
        assert_eq!(format.decode_applications(&body).unwrap(), apps);
        let body = fixture(&format!("application.{ext}"));
        assert_eq!(format.decode_application(&body).unwrap(), orders_application());
        let body = fixture(&format!("instance.{ext}"));
        assert_eq!(format.decode_instance(&body).unwrap(), register_orders());
    }
}

#[test]
fn fixture_hash_codes_match_their_contents() {
    assert_eq!(full_registry().compute_hash_code(), full_registry().apps_hashcode);
    assert_eq!(empty_registry().compute_hash_code(), empty_registry().apps_hashcode);
}

#[test]
fn encoders_emit_no_whitespace_between_tokens() {
    let apps = full_registry();
    let json_text = String::from_utf8(json::encode_applications(&apps)).unwrap();
    assert!(!json_text.contains(": ") && !json_text.contains(", ") && !json_text.ends_with('\n'));
    let xml_text = String::from_utf8(xml::encode_applications(&apps)).unwrap();
    assert!(!xml_text.contains(">\n") && !xml_text.starts_with("<?xml"));
}
