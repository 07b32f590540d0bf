package io.eurekars.spring.push;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.converters.EurekaJacksonCodec;
import com.netflix.discovery.shared.Applications;

/**
 * Decodes the data of the stream's events with Netflix's own Eureka JSON codec, so instances
 * come out exactly as the Eureka client builds them from a fetch.
 *
 * <pre>
 * event: snapshot   data: {"applications":{...}}                        (id = version)
 * event: change     data: {"action":"MODIFIED","app":"X","version":42,"instance":{...}}
 * </pre>
 */
final class StreamCodec {

	private static final ObjectMapper JSON = new ObjectMapper();

	private StreamCodec() {
	}

	/** The registry of a {@code snapshot} event. */
	static Applications snapshot(String data) throws IOException {
		Applications apps = EurekaJacksonCodec.getInstance().readValue(Applications.class, data);
		if (apps == null) {
			throw new IOException("snapshot event without an applications document");
		}
		return apps;
	}

	/** A {@code change} event. */
	static RegistryChange change(String data) throws IOException {
		JsonNode root = JSON.readTree(data);
		JsonNode action = root.path("action");
		JsonNode version = root.path("version");
		JsonNode instance = root.path("instance");
		if (!action.isTextual() || !version.canConvertToLong() || !instance.isObject()) {
			throw new IOException("change event without action, version and instance: " + abbreviate(data));
		}
		RegistryChange.Action kind;
		try {
			kind = RegistryChange.Action.valueOf(action.asText());
		}
		catch (IllegalArgumentException ex) {
			throw new IOException("change event with an unknown action: " + action.asText(), ex);
		}
		// Netflix's codec reads an instance wrapped in its root name, as the API sends it.
		InstanceInfo info = EurekaJacksonCodec.getInstance()
			.readValue(InstanceInfo.class, "{\"instance\":" + instance + "}");
		if (info == null || info.getId() == null || info.getAppName() == null) {
			throw new IOException("change event with an instance without id or app: " + abbreviate(data));
		}
		String app = root.path("app").isTextual() ? root.path("app").asText() : info.getAppName();
		return new RegistryChange(kind, app.toUpperCase(java.util.Locale.ROOT), version.asLong(), info);
	}

	private static String abbreviate(String s) {
		return s.length() <= 200 ? s : s.substring(0, 200) + "...";
	}

}
