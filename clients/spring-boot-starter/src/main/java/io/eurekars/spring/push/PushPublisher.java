package io.eurekars.spring.push;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import com.netflix.appinfo.InstanceInfo;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.context.ApplicationEventPublisher;

/**
 * What follows an applied change: the load balancer forgets its cached instance lists, then
 * the application hears of it, as an {@link EurekaRegistryChangedEvent} and as the
 * {@link HeartbeatEvent} Spring Cloud already reacts to (Gateway's discovery routes refresh
 * on it).
 */
final class PushPublisher implements LocalRegistry.Listener {

	private static final Log log = LogFactory.getLog(PushPublisher.class);

	private final ApplicationEventPublisher publisher;

	private final Supplier<List<Runnable>> cacheEvictions;

	private final AtomicLong published = new AtomicLong();

	PushPublisher(ApplicationEventPublisher publisher, Supplier<List<Runnable>> cacheEvictions) {
		this.publisher = publisher;
		this.cacheEvictions = cacheEvictions;
	}

	@Override
	public void applied(Map<String, List<RegistryChange>> apps, long version) {
		for (Runnable eviction : this.cacheEvictions.get()) {
			try {
				eviction.run();
			}
			catch (RuntimeException ex) {
				log.warn("eureka-rs push: cannot empty a load balancer cache", ex);
			}
		}
		if (log.isDebugEnabled()) {
			log.debug("eureka-rs push: applied changes of " + LocalRegistry.names(apps) + " up to version " + version);
		}
		Map<String, List<InstanceInfo>> instances = new LinkedHashMap<>();
		apps.forEach((app, changes) -> instances.put(app, changes.stream().map(RegistryChange::instance).toList()));
		this.publisher.publishEvent(new EurekaRegistryChangedEvent(this, instances, version));
		// A value of its own each time: Spring Cloud's HeartbeatMonitor reacts only to a new one.
		this.publisher.publishEvent(new HeartbeatEvent(this, "eureka-rs-push-" + this.published.incrementAndGet()));
	}

}
