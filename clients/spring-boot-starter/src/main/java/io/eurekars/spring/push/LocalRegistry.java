package io.eurekars.spring.push;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.shared.Application;
import com.netflix.discovery.shared.Applications;

/**
 * Applies pushed changes to the Eureka client's own registry copy, the live
 * {@link Applications} that {@code EurekaClient.getApplications()} returns, with the same
 * public operations the client's delta uses ({@code Application.addInstance},
 * {@code removeInstance}, {@code Applications.shuffleInstances}). After a change the copy is
 * exactly the server's, so the client's next delta reconciles with the server's
 * {@code apps__hashcode} and no full fetch is forced.
 *
 * <p>
 * The client's fetches run on their own thread and replace or patch the same copy. So a
 * change that arrives while a fetch is under way waits ({@link FetchObserver#busy()}), and
 * after every fetch the changes newer than the version the fetch answered with are applied
 * again: a delta taken before them holds older states of their instances. Changes the fetch
 * already holds are forgotten.
 */
final class LocalRegistry {

	/** Told about every batch of applied changes (load balancer caches, application events). */
	interface Listener {

		/**
		 * Some applications' instances changed in the client's copy.
		 * @param apps the changed applications (upper-case names) with their changes
		 * @param version the newest registry version applied
		 */
		void applied(Map<String, List<RegistryChange>> apps, long version);

	}

	/** A {@code snapshot} event that waits for a fetch to finish. */
	private record Snapshot(String endpoint, long version, Applications apps) {
	}

	/** A {@code change} event that waits for a fetch to finish. */
	private record Pending(String endpoint, RegistryChange change) {
	}

	private final Supplier<Applications> copy;

	private final boolean filterOnlyUp;

	private final FetchObserver fetches;

	private final Listener listener;

	/** Changes applied since the last fetch that holds them, one per instance. */
	private final Map<String, RegistryChange> retained = new LinkedHashMap<>();

	private final ArrayDeque<Object> waiting = new ArrayDeque<>();

	/** The server the retained changes came from. */
	private String endpoint;

	private long applied = -1;

	/**
	 * When the stream's server was seen to start its versions over (it restarted): fetches
	 * answered before then count in another sequence and are not compared.
	 */
	private long epochStart = Long.MIN_VALUE;

	LocalRegistry(Supplier<Applications> copy, boolean filterOnlyUp, FetchObserver fetches, Listener listener) {
		this.copy = copy;
		this.filterOnlyUp = filterOnlyUp;
		this.fetches = fetches;
		this.listener = listener;
	}

	/** A snapshot event from the stream of {@code endpoint}. */
	void snapshot(String endpoint, long version, Applications apps) {
		submit(new Snapshot(endpoint, version, apps));
	}

	/** A change event from the stream of {@code endpoint}. */
	void change(String endpoint, RegistryChange change) {
		submit(new Pending(endpoint, change));
	}

	/** The newest version applied from the stream, {@code -1} before any. */
	synchronized long appliedVersion() {
		return this.applied;
	}

	/** Changes waiting for a fetch to finish. */
	synchronized int waiting() {
		return this.waiting.size();
	}

	/**
	 * The client has applied a fetch (its cache-refreshed event): forget the changes it holds,
	 * apply again the ones it may have undone, and those that waited for it.
	 */
	void refreshed() {
		this.fetches.refreshed();
		Map<String, List<RegistryChange>> changed;
		long version;
		synchronized (this) {
			Applications local = this.copy.get();
			if (local == null) {
				return;
			}
			FetchObserver.Fetch fetch = this.fetches.last();
			boolean comparable = comparable(fetch, this.endpoint);
			List<RegistryChange> replay = new ArrayList<>();
			for (Iterator<RegistryChange> it = this.retained.values().iterator(); it.hasNext();) {
				RegistryChange c = it.next();
				if (comparable && c.version() <= fetch.version()) {
					it.remove();
				}
				else {
					replay.add(c);
				}
			}
			changed = new LinkedHashMap<>();
			Map<String, List<RegistryChange>> undone = new LinkedHashMap<>();
			for (RegistryChange c : replay) {
				patch(local, c, undone);
			}
			drain(local, changed);
			if (replay.isEmpty() && changed.isEmpty()) {
				return;
			}
			local.shuffleInstances(this.filterOnlyUp);
			local.setAppsHashCode(local.getReconcileHashCode());
			version = this.applied;
		}
		// A replayed change only undoes what the fetch undid: nobody saw its effect go away
		// except for the instant in between, so only new changes are announced.
		if (!changed.isEmpty()) {
			this.listener.applied(changed, version);
		}
	}

	/** Applies changes that waited, when no fetch is under way any more. */
	void flush() {
		submit(null);
	}

	private void submit(Object event) {
		Map<String, List<RegistryChange>> changed = new LinkedHashMap<>();
		long version;
		synchronized (this) {
			if (event != null) {
				this.waiting.add(event);
			}
			if (this.waiting.isEmpty() || this.fetches.busy()) {
				return;
			}
			Applications local = this.copy.get();
			if (local == null) {
				return;
			}
			drain(local, changed);
			if (changed.isEmpty()) {
				return;
			}
			local.shuffleInstances(this.filterOnlyUp);
			local.setAppsHashCode(local.getReconcileHashCode());
			version = this.applied;
		}
		this.listener.applied(changed, version);
	}

	/** Applies every waiting event to {@code local}; the caller shuffles. */
	private void drain(Applications local, Map<String, List<RegistryChange>> changed) {
		FetchObserver.Fetch fetch = this.fetches.last();
		for (Object event; (event = this.waiting.poll()) != null;) {
			if (event instanceof Snapshot s) {
				switchTo(s.endpoint(), s.version());
				applySnapshot(local, s, changed);
			}
			else if (event instanceof Pending p) {
				RegistryChange c = p.change();
				switchTo(p.endpoint(), c.version());
				this.applied = Math.max(this.applied, c.version());
				boolean held = comparable(fetch, p.endpoint()) && c.version() <= fetch.version();
				if (held) {
					// The client's last fetch already holds this change or a newer one.
					continue;
				}
				this.retained.put(c.key(), c);
				patch(local, c, changed);
			}
		}
	}

	/** Whether {@code fetch} counts versions in the same sequence as the stream of {@code endpoint}. */
	private boolean comparable(FetchObserver.Fetch fetch, String endpoint) {
		return fetch != null && fetch.hasVersion() && fetch.endpoint().equals(endpoint)
				&& fetch.answeredAt() > this.epochStart;
	}

	/** Notes the server an event came from, and whether it started its versions over. */
	private void switchTo(String endpoint, long version) {
		if (!endpoint.equals(this.endpoint)) {
			// Versions are per server: changes from another one cannot be compared any more,
			// and the new server's snapshot supersedes them.
			this.retained.clear();
			this.endpoint = endpoint;
			this.applied = -1;
		}
		else if (version < this.applied) {
			// Versions went back: the server restarted. Nothing from before compares.
			this.retained.clear();
			this.applied = -1;
			this.epochStart = this.fetches.now();
		}
	}

	/** Makes the copy equal to the snapshot: adds and replaces its instances, removes others. */
	private void applySnapshot(Applications local, Snapshot s, Map<String, List<RegistryChange>> changed) {
		// The snapshot supersedes every change the stream sent before it.
		this.retained.clear();
		this.applied = s.version();
		Set<String> present = new HashSet<>();
		for (Application app : s.apps().getRegisteredApplications()) {
			String name = app.getName().toUpperCase(java.util.Locale.ROOT);
			for (InstanceInfo info : app.getInstancesAsIsFromEureka()) {
				RegistryChange c = new RegistryChange(RegistryChange.Action.MODIFIED, name, s.version(), info);
				present.add(c.key());
				Application mine = local.getRegisteredApplications(name);
				InstanceInfo before = mine == null ? null : mine.getByInstanceId(info.getId());
				this.retained.put(c.key(), c);
				if (before == null || !sameForCallers(before, info)) {
					patch(local, c, changed);
				}
				else {
					mine.addInstance(info);
				}
			}
		}
		for (Application app : new ArrayList<>(local.getRegisteredApplications())) {
			String name = app.getName().toUpperCase(java.util.Locale.ROOT);
			for (InstanceInfo info : new ArrayList<>(app.getInstancesAsIsFromEureka())) {
				RegistryChange c = new RegistryChange(RegistryChange.Action.DELETED, name, s.version(), info);
				if (!present.contains(c.key())) {
					this.retained.put(c.key(), c);
					patch(local, c, changed);
				}
			}
		}
	}

	/** One change, as the client's delta applies it; empty applications are removed. */
	private static void patch(Applications local, RegistryChange c, Map<String, List<RegistryChange>> changed) {
		Application app = local.getRegisteredApplications(c.app());
		switch (c.action()) {
			case ADDED, MODIFIED -> {
				if (app == null) {
					app = new Application(c.app());
					local.addApplication(app);
				}
				app.addInstance(c.instance());
			}
			case DELETED -> {
				if (app == null) {
					return;
				}
				app.removeInstance(c.instance());
				if (app.size() == 0) {
					local.removeApplication(app);
				}
			}
		}
		changed.computeIfAbsent(c.app(), k -> new ArrayList<>()).add(c);
	}

	/** Whether a caller would route to both the same way. */
	private static boolean sameForCallers(InstanceInfo a, InstanceInfo b) {
		return a.getStatus() == b.getStatus() && a.getOverriddenStatus() == b.getOverriddenStatus()
				&& Objects.equals(a.getHostName(), b.getHostName()) && Objects.equals(a.getIPAddr(), b.getIPAddr())
				&& a.getPort() == b.getPort() && a.getSecurePort() == b.getSecurePort()
				&& a.isPortEnabled(InstanceInfo.PortType.UNSECURE) == b.isPortEnabled(InstanceInfo.PortType.UNSECURE)
				&& a.isPortEnabled(InstanceInfo.PortType.SECURE) == b.isPortEnabled(InstanceInfo.PortType.SECURE)
				&& Objects.equals(a.getVIPAddress(), b.getVIPAddress())
				&& Objects.equals(a.getSecureVipAddress(), b.getSecureVipAddress())
				&& Objects.equals(a.getMetadata(), b.getMetadata());
	}

	/** The names of the changed applications, sorted; for logs. */
	static Set<String> names(Map<String, List<RegistryChange>> changed) {
		return new TreeSet<>(changed.keySet());
	}

}
