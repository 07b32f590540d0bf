//! Decode errors: malformed input, wrong roots, bad values, hostile XML and deep nesting all
//! give a `DecodeError`, never a panic, a hang or an entity expansion.

use eureka_model::{json, xml, DecodeError, InstanceStatus};

fn json_err(body: &str) -> DecodeError {
    json::decode_instance(body.as_bytes()).expect_err(body)
}

fn xml_err(body: &str) -> DecodeError {
    xml::decode_instance(body.as_bytes()).expect_err(body)
}

fn invalid_field(err: &DecodeError) -> &str {
    match err {
        DecodeError::InvalidField { field, .. } => field,
        other => panic!("expected InvalidField, got {other:?}"),
    }
}

fn is_syntax(err: &DecodeError, expected_format: &str) -> bool {
    matches!(err, DecodeError::Syntax { format, .. } if *format == expected_format)
}

#[test]
fn malformed_json() {
    for body in ["", "{", r#"{"instance":{"app":"A"}"#, r#"{"instance":{"app":}}"#, "nul", "\u{0}"]
    {
        assert!(is_syntax(&json_err(body), "JSON"), "{body:?}");
    }
    let err = json::decode_instance(b"{\"instance\":{\"app\":\"\xff\"}}").unwrap_err();
    assert!(is_syntax(&err, "JSON"));
    assert!(is_syntax(&json::decode_applications(b"[").unwrap_err(), "JSON"));
}

#[test]
fn malformed_xml() {
    for body in [
        "",
        "   ",
        "<instance>",
        "<instance><app>A</instance>",
        "<instance></app></instance>",
        "<instance a='1' a='2'/>",
        "<instance/><instance/>",
        "text<instance/>",
        "<instance/>trailing",
        "<instance><app>&bogus;</app></instance>",
        "<instance><app>&#xZZ;</app></instance>",
        "<instance attr=noquotes/>",
    ] {
        assert!(
            is_syntax(&xml_err(body), "XML"),
            "{body:?} gave {:?}",
            xml::decode_instance(body.as_bytes())
        );
    }
    assert!(is_syntax(&xml::decode_instance(b"<instance>\xff</instance>").unwrap_err(), "XML"));
}

#[test]
fn wrong_root() {
    assert_eq!(
        json_err(r#"{"application":{"name":"A"}}"#),
        DecodeError::WrongRoot { expected: "instance", found: "application".into() }
    );
    assert_eq!(
        json_err("[]"),
        DecodeError::WrongRoot { expected: "instance", found: "(array)".into() }
    );
    assert!(matches!(json_err("{}"), DecodeError::WrongRoot { expected: "instance", .. }));
    assert_eq!(
        json::decode_applications(br#"{"instance":{}}"#).unwrap_err(),
        DecodeError::WrongRoot { expected: "applications", found: "instance".into() }
    );
    assert_eq!(
        xml_err("<application><name>A</name></application>"),
        DecodeError::WrongRoot { expected: "instance", found: "application".into() }
    );
    assert_eq!(
        xml::decode_applications(b"<instance/>").unwrap_err(),
        DecodeError::WrongRoot { expected: "applications", found: "instance".into() }
    );
    assert!(matches!(
        xml::decode_application(b"<applications/>").unwrap_err(),
        DecodeError::WrongRoot { expected: "application", .. }
    ));
    assert!(matches!(
        json::decode_replication_list(br#"{"responseList":[]}"#).unwrap_err(),
        DecodeError::WrongRoot { expected: "replicationList", .. }
    ));
    assert!(matches!(
        json::decode_replication_list_response(br#"{"replicationList":[]}"#).unwrap_err(),
        DecodeError::WrongRoot { expected: "responseList", .. }
    ));
}

#[test]
fn root_value_of_the_wrong_type() {
    assert_eq!(invalid_field(&json_err(r#"{"instance":"x"}"#)), "instance");
    assert_eq!(invalid_field(&json_err(r#"{"instance":[]}"#)), "instance");
}

#[test]
fn bad_ports() {
    let err = json_err(r#"{"instance":{"port":{"$":"abc","@enabled":"true"}}}"#);
    assert_eq!(invalid_field(&err), "instance.port.$");
    assert!(err.to_string().contains("abc"), "{err}");
    let err = json_err(r#"{"instance":{"securePort":{"$":70000}}}"#);
    assert_eq!(invalid_field(&err), "instance.securePort.$");
    assert!(err.to_string().contains("70000"), "{err}");
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"port":{"$":-1}}}"#)), "instance.port.$");
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"port":{"$":80.5}}}"#)), "instance.port.$");
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"port":{"$":true}}}"#)), "instance.port.$");
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"port":[80]}}"#)), "instance.port.$");
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"port":{"$":80,"@enabled":1}}}"#)),
        "instance.port.@enabled"
    );
    assert_eq!(invalid_field(&xml_err("<instance><port>abc</port></instance>")), "instance.port");
    assert_eq!(
        invalid_field(&xml_err("<instance><securePort>70000</securePort></instance>")),
        "instance.securePort"
    );
}

#[test]
fn bad_numbers() {
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"lastDirtyTimestamp":"soon"}}"#)),
        "instance.lastDirtyTimestamp"
    );
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"countryId":3000000000}}"#)),
        "instance.countryId"
    );
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"leaseInfo":{"durationInSecs":99999999999}}}"#)),
        "instance.leaseInfo.durationInSecs"
    );
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"lastUpdatedTimestamp":1e300}}"#)),
        "instance.lastUpdatedTimestamp"
    );
    assert_eq!(
        invalid_field(&json_err(
            r#"{"instance":{"lastUpdatedTimestamp":"99999999999999999999999"}}"#
        )),
        "instance.lastUpdatedTimestamp"
    );
    assert_eq!(
        invalid_field(&xml_err(
            "<instance><leaseInfo><evictionTimestamp>x</evictionTimestamp></leaseInfo></instance>"
        )),
        "instance.leaseInfo.evictionTimestamp"
    );
    assert_eq!(
        invalid_field(&xml_err("<instance><countryId>1.5</countryId></instance>")),
        "instance.countryId"
    );
}

#[test]
fn structured_values_where_scalars_belong() {
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"metadata":{"ok":"1","bad":{"x":"y"}}}}"#)),
        "instance.metadata.bad"
    );
    assert_eq!(
        invalid_field(&json_err(r#"{"instance":{"metadata":{"bad":["x"]}}}"#)),
        "instance.metadata.bad"
    );
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"metadata":"x"}}"#)), "instance.metadata");
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"hostName":{}}}"#)), "instance.hostName");
    assert_eq!(invalid_field(&json_err(r#"{"instance":{"leaseInfo":5}}"#)), "instance.leaseInfo");
    assert_eq!(
        invalid_field(&xml_err("<instance><metadata><bad><x>y</x></bad></metadata></instance>")),
        "instance.metadata.bad"
    );
}

#[test]
fn unknown_data_center_name() {
    let err = json_err(r#"{"instance":{"dataCenterInfo":{"name":"Mars"}}}"#);
    assert_eq!(invalid_field(&err), "instance.dataCenterInfo.name");
    let err = xml_err("<instance><dataCenterInfo><name>Mars</name></dataCenterInfo></instance>");
    assert_eq!(invalid_field(&err), "instance.dataCenterInfo.name");
}

#[test]
fn error_paths_name_the_list_position() {
    let body =
        br#"{"applications":{"application":[{"name":"A","instance":[{},{"port":{"$":"x"}}]}]}}"#;
    let err = json::decode_applications(body).unwrap_err();
    assert_eq!(invalid_field(&err), "applications.application[0].instance[1].port.$");
    let body = b"<applications><application><instance/><instance><port>x</port></instance>\
                 </application></applications>";
    let err = xml::decode_applications(body).unwrap_err();
    assert_eq!(invalid_field(&err), "applications.application[0].instance[1].port");
}

#[test]
fn replication_errors() {
    let err = json::decode_replication_list(
        br#"{"replicationList":[{"appName":"A","id":"i","action":"Explode"}]}"#,
    )
    .unwrap_err();
    assert_eq!(invalid_field(&err), "replicationList[0].action");
    let err = json::decode_replication_list(br#"{"replicationList":[{"appName":"A","id":"i"}]}"#)
        .unwrap_err();
    assert_eq!(invalid_field(&err), "replicationList[0].action");
    let err = json::decode_replication_list(
        br#"{"replicationList":[{"action":"Register","instanceInfo":{"port":{"$":-7}}}]}"#,
    )
    .unwrap_err();
    assert_eq!(invalid_field(&err), "replicationList[0].instanceInfo.port.$");
    let err = json::decode_replication_list_response(br#"{"responseList":[{}]}"#).unwrap_err();
    assert_eq!(invalid_field(&err), "responseList[0].statusCode");
    let err = json::decode_replication_list_response(br#"{"responseList":[{"statusCode":70000}]}"#)
        .unwrap_err();
    assert_eq!(invalid_field(&err), "responseList[0].statusCode");
}

#[test]
fn xml_doctype_and_entity_definitions_are_rejected_not_expanded() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<instance><hostName>&lol9;</hostName></instance>"#;
    assert!(is_syntax(&xml_err(billion_laughs), "XML"));
    let external = r#"<!DOCTYPE instance [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<instance><hostName>&xxe;</hostName></instance>"#;
    assert!(is_syntax(&xml_err(external), "XML"));
    let plain_doctype = "<!DOCTYPE instance><instance><app>A</app></instance>";
    assert!(is_syntax(&xml_err(plain_doctype), "XML"));
    let undefined = "<instance><hostName>&lol;</hostName></instance>";
    assert!(is_syntax(&xml_err(undefined), "XML"));
}

#[test]
fn deep_json_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [200, 100_000] {
        let body =
            format!(r#"{{"instance":{{"extra":{}1{}}}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert_eq!(json_err(&body), DecodeError::TooDeep(128), "depth {depth}");
        let objects =
            format!(r#"{{"instance":{}{}}}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth));
        assert_eq!(json_err(&objects), DecodeError::TooDeep(128), "depth {depth}");
    }
}

#[test]
fn deep_xml_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [200, 100_000] {
        let body = format!("<instance>{}{}</instance>", "<a>".repeat(depth), "</a>".repeat(depth));
        assert_eq!(xml_err(&body), DecodeError::TooDeep(xml::MAX_DEPTH), "depth {depth}");
        let unclosed = format!("<instance>{}", "<a>".repeat(depth));
        assert_eq!(xml_err(&unclosed), DecodeError::TooDeep(xml::MAX_DEPTH), "depth {depth}");
    }
    // 60 levels below the root is still accepted (unknown elements are ignored).
    let body = format!("<instance>{}{}</instance>", "<a>".repeat(60), "</a>".repeat(60));
    assert!(xml::decode_instance(body.as_bytes()).is_ok());
}

#[test]
fn error_messages_are_readable() {
    let err = json_err(r#"{"instance":{"port":{"$":"abc"}}}"#);
    assert_eq!(
        err.to_string(),
        r#"invalid value for 'instance.port.$': expected an integer, found "abc""#
    );
    let long = "9".repeat(30) + &"x".repeat(100);
    let err = json_err(&format!(r#"{{"instance":{{"countryId":"{long}"}}}}"#));
    assert!(err.to_string().len() < 150, "{err}");
    assert_eq!(json_err(r#"{"app":{}}"#).to_string(), "expected root 'instance', found 'app'");
}

#[test]
fn replication_statuses_must_be_status_names() {
    // Java's receiver calls `InstanceStatus.valueOf`: an unknown name fails there too, so the
    // batch is refused rather than applied as UNKNOWN.
    for (key, value) in
        [("status", r#""BOGUS""#), ("overriddenStatus", r#""bogus""#), ("status", "5")]
    {
        let body = format!(
            r#"{{"replicationList":[{{"appName":"A","id":"i","action":"StatusUpdate","{key}":{value}}}]}}"#
        );
        let err = json::decode_replication_list(body.as_bytes()).unwrap_err();
        assert_eq!(invalid_field(&err), format!("replicationList[0].{key}"), "{body}");
    }
}

#[test]
fn instance_statuses_must_be_strings_but_unknown_text_is_unknown() {
    let body = |status: &str| format!(r#"{{"instance":{{"app":"A","status":{status}}}}}"#);
    for bad in ["5", "true", "{}", "[]"] {
        let err = json_err(&body(bad));
        assert_eq!(invalid_field(&err), "instance.status", "{bad}");
    }
    let info = json::decode_instance(body(r#""SLEEPY""#).as_bytes()).unwrap();
    assert_eq!(info.status, InstanceStatus::Unknown);
}

#[test]
fn repeated_json_keys_are_refused_at_every_level() {
    for body in [
        r#"{"instance":{"app":"A","app":"B"}}"#,
        r#"{"instance":{"app":"A"},"instance":{"app":"B"}}"#,
        r#"{"instance":{"metadata":{"k":"1","k":"2"}}}"#,
        r#"{"instance":{"port":{"$":1,"$":2}}}"#,
        r#"{"instance":{"unknown":1,"unknown":2}}"#,
    ] {
        assert!(matches!(json_err(body), DecodeError::Duplicate { .. }), "{body}");
    }
    let err = json_err(r#"{"instance":{"app":"A","app":"B"}}"#);
    assert_eq!(
        err.to_string(),
        r#"duplicate key "app" at line 1 column 28: each field may appear only once"#
    );
    // Equal keys in different objects are no repetition.
    json::decode_instance(br#"{"instance":{"port":{"$":1},"securePort":{"$":2}}}"#).unwrap();
}

#[test]
fn repeated_xml_elements_are_refused_except_list_items() {
    for body in [
        "<instance><app>A</app><app>B</app></instance>",
        "<instance><metadata><k>1</k><k>2</k></metadata></instance>",
        "<instance><leaseInfo><durationInSecs>1</durationInSecs><durationInSecs>2</durationInSecs></leaseInfo></instance>",
        "<instance><dataCenterInfo><name>MyOwn</name><name>Amazon</name></dataCenterInfo></instance>",
    ] {
        assert!(matches!(xml_err(body), DecodeError::Duplicate { .. }), "{body}");
    }
    assert_eq!(
        xml_err("<instance><app>A</app><app>B</app></instance>").to_string(),
        "duplicate element <app> at instance: each field may appear only once"
    );
    let apps = xml::decode_applications(
        b"<applications><application><name>A</name><instance><app>A</app></instance>\
          <instance><app>A</app></instance></application><application><name>B</name>\
          </application></applications>",
    )
    .unwrap();
    assert_eq!(apps.applications.len(), 2);
    assert_eq!(apps.applications[0].instances.len(), 2);
    assert!(matches!(
        xml::decode_applications(
            b"<applications><apps__hashcode/><apps__hashcode/></applications>"
        ),
        Err(DecodeError::Duplicate { .. })
    ));
}

#[test]
fn a_malformed_body_outranks_a_bad_value_before_the_fault() {
    // The decoder reads values as it goes: a bad port is met before the broken tail, yet the
    // body is not JSON at all, and that is what is reported.
    let err = json_err(r#"{"instance":{"port":{"$":"x"},"app":"A"} trailing"#);
    assert!(is_syntax(&err, "JSON"), "{err:?}");
    let err = json_err(r#"{"instance":{"port":{"$":"x"},"app":"A","extra":[1,}}"#);
    assert!(is_syntax(&err, "JSON"), "{err:?}");
    let err = json_err(r#"{"instance":{"port":{"$":"x"},"app":"A","app":"B"}}"#);
    assert!(matches!(err, DecodeError::Duplicate { .. }), "{err:?}");
    let deep = format!(
        r#"{{"instance":{{"port":{{"$":"x"}},"extra":{}1{}}}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    assert_eq!(json_err(&deep), DecodeError::TooDeep(128));
    let err = json::decode_applications(br#"{"apps":{}, "x": tru}"#).unwrap_err();
    assert!(is_syntax(&err, "JSON"), "{err:?}");
    // Well-formed: the bad value is reported, by its path.
    let err = json_err(r#"{"instance":{"port":{"$":"x"},"app":"A"}}"#);
    assert_eq!(invalid_field(&err), "instance.port.$");
}

#[test]
fn escaped_keys_read_as_their_text() {
    let info = json::decode_instance(
        br#"{"instance":{"\u0061pp":"A","metadata":{"k\"q":"v","tab\tkey":"w"},"un\nknown":1}}"#,
    )
    .unwrap();
    assert_eq!(info.app, "A");
    assert_eq!(info.metadata.get("k\"q").map(String::as_str), Some("v"));
    assert_eq!(info.metadata.get("tab\tkey").map(String::as_str), Some("w"));
    // The same key spelled with and without an escape is still a repetition.
    let err = json_err(r#"{"instance":{"app":"A","\u0061pp":"B"}}"#);
    assert!(matches!(err, DecodeError::Duplicate { .. }), "{err:?}");
    // A raw control character or a lone surrogate is not JSON, in a key as in a value.
    assert!(is_syntax(&json_err("{\"instance\":{\"a\nb\":1}}"), "JSON"));
    assert!(is_syntax(&json_err(r#"{"instance":{"\ud800":1}}"#), "JSON"));
}
