//! The compact form (`X-Eureka-Accept: compact`) against a Spring Cloud Eureka server's own:
//! the fixtures in `tests/fixtures/compact/` were captured from one (eureka-core 2.0.5) holding
//! three instances, each document once in full and once compact. Decoding Java's full
//! document and encoding it compact must give Java's compact bytes exactly.

mod common;

use common::fixture;
use eureka_model::{Codec, Detail, Format};

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("UTF-8")
}

#[test]
fn registry_documents_match_java_in_both_formats() {
    for (format, ext) in [(Format::Json, "json"), (Format::Xml, "xml")] {
        let full = format
            .decode_applications(&fixture(&format!("compact/java-apps-full.{ext}")))
            .unwrap_or_else(|e| panic!("{ext}: {e}"));
        let ours = Codec::new(format, Detail::Compact).encode_applications(&full);
        let java = fixture(&format!("compact/java-apps-compact.{ext}"));
        assert_eq!(text(ours), text(java), "{ext}");
    }
}

#[test]
fn application_documents_match_java_in_both_formats() {
    for (format, ext) in [(Format::Json, "json"), (Format::Xml, "xml")] {
        let full = format
            .decode_application(&fixture(&format!("compact/java-app-full.{ext}")))
            .unwrap_or_else(|e| panic!("{ext}: {e}"));
        let ours = Codec::new(format, Detail::Compact).encode_application(&full);
        let java = fixture(&format!("compact/java-app-compact.{ext}"));
        assert_eq!(text(ours), text(java), "{ext}");
    }
}

#[test]
fn an_empty_registry_is_compact_too() {
    let empty = eureka_model::Applications {
        versions_delta: "1".into(),
        apps_hashcode: String::new(),
        applications: Vec::new(),
    };
    // What the Spring server answered with no instance registered.
    let json = Codec::new(Format::Json, Detail::Compact).encode_applications(&empty);
    assert_eq!(
        text(json),
        r#"{"applications":{"application":[],"versions__delta":"1","apps__hashcode":""}}"#
    );
    let xml = Codec::new(Format::Xml, Detail::Compact).encode_applications(&empty);
    assert_eq!(
        text(xml),
        "<applications><versions__delta>1</versions__delta><apps__hashcode></apps__hashcode></applications>"
    );
}

#[test]
fn the_frame_assembles_the_same_document() {
    let full = Format::Json.decode_applications(&fixture("compact/java-apps-full.json")).unwrap();
    for format in [Format::Json, Format::Xml] {
        let codec = Codec::new(format, Detail::Compact);
        let frame = codec.applications_frame(&full.versions_delta, &full.apps_hashcode);
        let mut assembled = frame.head.clone();
        for (i, app) in full.applications.iter().enumerate() {
            if i > 0 {
                assembled.extend_from_slice(frame.separator);
            }
            assembled.extend_from_slice(&codec.encode_application_entry(app));
        }
        assembled.extend_from_slice(&frame.tail);
        assert_eq!(text(assembled), text(codec.encode_applications(&full)), "{format:?}");
    }
}

#[test]
fn the_header_is_read_as_java_reads_it() {
    assert_eq!(Detail::from_header(Some(b"compact")), Detail::Compact);
    assert_eq!(Detail::from_header(Some(b"COMPACT")), Detail::Compact);
    assert_eq!(Detail::from_header(Some(b"full")), Detail::Full);
    assert_eq!(Detail::from_header(Some(b"mini")), Detail::Full);
    assert_eq!(Detail::from_header(None), Detail::Full);
}
