package io.eurekars.spring.push;

import java.io.IOException;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.converters.EurekaJacksonCodec;
import com.netflix.discovery.shared.Application;
import com.netflix.discovery.shared.Applications;

/** Instances and documents in the JSON shape eureka-rs sends (Eureka's own). */
final class Fixtures {

	private Fixtures() {
	}

	static String instanceJson(String app, String id, int port, String status) {
		String vip = app.toLowerCase();
		return "{\"instanceId\":\"" + id + "\",\"hostName\":\"127.0.0.1\",\"app\":\"" + app
				+ "\",\"ipAddr\":\"127.0.0.1\",\"status\":\"" + status + "\",\"overriddenStatus\":\"UNKNOWN\","
				+ "\"port\":{\"$\":" + port + ",\"@enabled\":\"true\"},\"securePort\":{\"$\":443,\"@enabled\":\"false\"},"
				+ "\"countryId\":1,\"dataCenterInfo\":{\"@class\":\"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo\",\"name\":\"MyOwn\"},"
				+ "\"leaseInfo\":{\"renewalIntervalInSecs\":30,\"durationInSecs\":90,\"registrationTimestamp\":1700000000000,"
				+ "\"lastRenewalTimestamp\":1700000000000,\"evictionTimestamp\":0,\"serviceUpTimestamp\":1700000000000},"
				+ "\"metadata\":{\"zone\":\"zone-a\"},\"homePageUrl\":\"http://127.0.0.1:" + port + "/\","
				+ "\"statusPageUrl\":\"http://127.0.0.1:" + port + "/info\",\"healthCheckUrl\":\"http://127.0.0.1:" + port
				+ "/health\",\"vipAddress\":\"" + vip + "\",\"secureVipAddress\":\"" + vip + "\","
				+ "\"isCoordinatingDiscoveryServer\":\"false\",\"lastUpdatedTimestamp\":\"1700000000000\","
				+ "\"lastDirtyTimestamp\":\"1700000000000\",\"actionType\":\"ADDED\"}";
	}

	static InstanceInfo instance(String app, String id, int port, String status) {
		try {
			return EurekaJacksonCodec.getInstance()
				.readValue(InstanceInfo.class, "{\"instance\":" + instanceJson(app, id, port, status) + "}");
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	static String changeData(String action, String app, String id, int port, String status, long version) {
		return "{\"action\":\"" + action + "\",\"app\":\"" + app + "\",\"version\":" + version + ","
				+ "\"instance\":" + instanceJson(app, id, port, status) + "}";
	}

	static RegistryChange change(String action, String app, String id, String status, long version) {
		try {
			return StreamCodec.change(changeData(action, app, id, 8080, status, version));
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** A registry document as a snapshot event's data: {@code [app, id, status]} triples. */
	static String snapshotData(String[]... instances) {
		StringBuilder apps = new StringBuilder();
		java.util.Map<String, StringBuilder> byApp = new java.util.TreeMap<>();
		for (String[] i : instances) {
			StringBuilder b = byApp.computeIfAbsent(i[0], k -> new StringBuilder());
			if (b.length() > 0) {
				b.append(',');
			}
			b.append(instanceJson(i[0], i[1], 8080, i[2]));
		}
		for (var e : byApp.entrySet()) {
			if (apps.length() > 0) {
				apps.append(',');
			}
			apps.append("{\"name\":\"").append(e.getKey()).append("\",\"instance\":[").append(e.getValue()).append("]}");
		}
		return "{\"applications\":{\"versions__delta\":\"1\",\"apps__hashcode\":\"\",\"application\":[" + apps + "]}}";
	}

	/** A client copy holding the given {@code [app, id, status]} triples, shuffled as the client does. */
	static Applications copy(String[]... instances) {
		Applications apps = new Applications();
		for (String[] i : instances) {
			Application app = apps.getRegisteredApplications(i[0]);
			if (app == null) {
				app = new Application(i[0]);
				apps.addApplication(app);
			}
			app.addInstance(instance(i[0], i[1], 8080, i[2]));
		}
		apps.shuffleInstances(true);
		return apps;
	}

	static String[] i(String app, String id, String status) {
		return new String[] { app, id, status };
	}

}
