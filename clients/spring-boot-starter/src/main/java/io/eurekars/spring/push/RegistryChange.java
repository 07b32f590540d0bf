package io.eurekars.spring.push;

import com.netflix.appinfo.InstanceInfo;

/**
 * One instance change of the stream: what happened, to which instance, at which registry
 * version of the server that sent it.
 *
 * @param action {@code ADDED}, {@code MODIFIED} or {@code DELETED}
 * @param app the application name as the server holds it (upper case)
 * @param version the registry version the change produced on its server
 * @param instance the instance after the change (before it, for {@code DELETED})
 */
record RegistryChange(Action action, String app, long version, InstanceInfo instance) {

	/** What happened to the instance; the values of Eureka's {@code actionType}. */
	enum Action {

		/** Registered. */
		ADDED,
		/** Changed (status, override, metadata, re-registration). */
		MODIFIED,
		/** Cancelled or evicted. */
		DELETED

	}

	/** The key the change is remembered under: one entry per instance. */
	String key() {
		return this.app + '/' + this.instance.getId();
	}

}
