package io.eurekars.spring.push;

import java.util.List;
import java.util.Map;
import java.util.Set;

import com.netflix.appinfo.InstanceInfo;

import org.springframework.context.ApplicationEvent;

/**
 * Published after pushed changes reached the Eureka client's registry copy (and the load
 * balancer's caches were emptied): {@code DiscoveryClient.getInstances()} already answers
 * with them. Listen with {@code @EventListener}.
 */
public class EurekaRegistryChangedEvent extends ApplicationEvent {

	private final Map<String, List<InstanceInfo>> changed;

	private final long version;

	/**
	 * @param source who applied the changes
	 * @param changed the changed instances by application name (upper case), each as it is
	 * now (as it was, for a removed one)
	 * @param version the registry version of the newest change
	 */
	public EurekaRegistryChangedEvent(Object source, Map<String, List<InstanceInfo>> changed, long version) {
		super(source);
		this.changed = Map.copyOf(changed);
		this.version = version;
	}

	/** The names of the changed applications, upper case as Eureka holds them. */
	public Set<String> getApplications() {
		return this.changed.keySet();
	}

	/** The changed instances of one application (empty for an application that did not change). */
	public List<InstanceInfo> getInstances(String application) {
		return this.changed.getOrDefault(application.toUpperCase(java.util.Locale.ROOT), List.of());
	}

	/** The registry version (on the server that sent it) of the newest change. */
	public long getVersion() {
		return this.version;
	}

	@Override
	public String toString() {
		return "EurekaRegistryChangedEvent" + getApplications() + "@" + this.version;
	}

}
