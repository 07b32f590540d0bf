package io.eurekars.spring.push;

import java.util.List;
import java.util.Optional;

import javax.net.ssl.SSLContext;

import com.netflix.appinfo.ApplicationInfoManager;
import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.AbstractDiscoveryClientOptionalArgs;
import com.netflix.discovery.EurekaClient;
import com.netflix.discovery.EurekaClientConfig;
import com.netflix.discovery.endpoint.EndpointUtils;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.client.discovery.event.HeartbeatEvent;
import org.springframework.cloud.configuration.SSLContextFactory;
import org.springframework.cloud.configuration.TlsProperties;
import org.springframework.cloud.netflix.eureka.serviceregistry.EurekaAutoServiceRegistration;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration of the eureka-rs push starter for Spring Cloud Netflix's Eureka client:
 * the change stream into the client's registry copy and the load balancer, and deregistration
 * before the web server stops. Off with {@code eureka.client.push.enabled=false} (or
 * {@code eureka.client.enabled=false}); then none of it is created.
 */
@AutoConfiguration(afterName = { "org.springframework.cloud.netflix.eureka.EurekaClientAutoConfiguration",
		"org.springframework.cloud.netflix.eureka.config.DiscoveryClientOptionalArgsConfiguration" })
@ConditionalOnClass(name = { "com.netflix.discovery.EurekaClient",
		"org.springframework.cloud.netflix.eureka.CloudEurekaClient" })
@ConditionalOnProperty(prefix = "eureka.client", name = { "enabled", "push.enabled" }, matchIfMissing = true)
@ConditionalOnMissingBean(type = "org.springframework.cloud.netflix.eureka.server.EurekaServerMarkerConfiguration$Marker")
@EnableConfigurationProperties(EurekaPushProperties.class)
public class EurekaPushAutoConfiguration {

	private static final Log log = LogFactory.getLog(EurekaPushAutoConfiguration.class);

	/** Watches the Eureka client's fetches through its transport bean (a bean post-processor). */
	@Bean
	static FetchObserver eurekaRsFetchObserver() {
		return new FetchObserver();
	}

	@Bean
	StreamHttp eurekaRsStreamHttp(EurekaPushProperties properties, ApplicationInfoManager manager,
			ObjectProvider<AbstractDiscoveryClientOptionalArgs<?>> optionalArgs, ObjectProvider<TlsProperties> tls) {
		InstanceInfo me = manager.getInfo();
		return new StreamHttp(sslContext(optionalArgs, tls), properties.getConnectTimeout(),
				properties.getConnectTimeout(), StreamHttp.clientId(me == null ? null : me.getId()));
	}

	@Bean
	PushPublisher eurekaRsPushPublisher(ApplicationContext context, ObjectProvider<LoadBalancerCacheEviction> evictions) {
		return new PushPublisher(context, () -> evictions.orderedStream().map(e -> (Runnable) e).toList());
	}

	@Bean
	LocalRegistry eurekaRsLocalRegistry(ObjectProvider<EurekaClient> client, EurekaClientConfig clientConfig,
			FetchObserver fetches, PushPublisher publisher) {
		return new LocalRegistry(() -> {
			EurekaClient c = client.getIfAvailable();
			return c == null ? null : c.getApplications();
		}, clientConfig.shouldFilterOnlyUpInstances(), fetches, publisher);
	}

	/** The client's cache-refreshed event: it applied a fetch, so pushed changes may be replayed. */
	@Bean
	RefreshListener eurekaRsRefreshListener(LocalRegistry registry) {
		return new RefreshListener(registry);
	}

	@Bean
	ChangeStream eurekaRsChangeStream(EurekaPushProperties properties, EurekaClientConfig clientConfig,
			ApplicationInfoManager manager, FetchObserver fetches, LocalRegistry registry, StreamHttp http) {
		ChangeStream stream = new ChangeStream(properties, () -> serviceUrls(clientConfig, manager), fetches, registry,
				http) {
			@Override
			public void start() {
				if (!clientConfig.shouldFetchRegistry()) {
					return;
				}
				String vip = clientConfig.getRegistryRefreshSingleVipAddress();
				if (vip != null && !vip.isEmpty()) {
					log.info("eureka-rs push is off: the Eureka client fetches only VIP " + vip
							+ " (registry-refresh-single-vip-address), the stream carries every application");
					return;
				}
				super.start();
			}
		};
		return stream;
	}

	@Bean
	ShutdownDeregistration eurekaRsShutdownDeregistration(ApplicationContext context, EurekaPushProperties properties,
			EurekaClientConfig clientConfig, ObjectProvider<EurekaClient> client,
			ObjectProvider<EurekaAutoServiceRegistration> registration, StreamHttp http, ChangeStream stream) {
		return new ShutdownDeregistration(context, properties, clientConfig, client, registration, http,
				stream::currentServer);
	}

	/** The service URLs the Eureka client uses for this instance's zone, in its order. */
	static List<String> serviceUrls(EurekaClientConfig config, ApplicationInfoManager manager) {
		String[] zones = config.getAvailabilityZones(config.getRegion());
		String zone = InstanceInfo.getZone(zones, manager.getInfo());
		return EndpointUtils.getServiceUrlsFromConfig(config, zone, config.shouldPreferSameZoneEureka());
	}

	/** The TLS context the Eureka client's transport was given ({@code eureka.client.tls.*}). */
	private static SSLContext sslContext(ObjectProvider<AbstractDiscoveryClientOptionalArgs<?>> optionalArgs,
			ObjectProvider<TlsProperties> tls) {
		AbstractDiscoveryClientOptionalArgs<?> args = optionalArgs.getIfAvailable();
		if (args != null) {
			Optional<SSLContext> ssl = args.getSSLContext();
			if (ssl != null && ssl.isPresent()) {
				return ssl.get();
			}
		}
		TlsProperties properties = tls.getIfAvailable();
		if (properties != null && properties.isEnabled()) {
			try {
				return new SSLContextFactory(properties).createSSLContext();
			}
			catch (Exception ex) {
				throw new IllegalStateException("eureka.client.tls: cannot build the TLS context", ex);
			}
		}
		return null;
	}

	/** Hands the Eureka client's own heartbeat events (one per applied fetch) to the registry copy. */
	static final class RefreshListener implements ApplicationListener<HeartbeatEvent> {

		private final LocalRegistry registry;

		RefreshListener(LocalRegistry registry) {
			this.registry = registry;
		}

		@Override
		public void onApplicationEvent(HeartbeatEvent event) {
			if (event.getSource() instanceof EurekaClient) {
				this.registry.refreshed();
			}
		}

	}

	/** Empties Spring Cloud LoadBalancer's instance caches on every change, when it is there. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.cloud.loadbalancer.cache.LoadBalancerCacheManager")
	static class LoadBalancerConfiguration {

		@Bean
		LoadBalancerCacheEviction eurekaRsLoadBalancerCacheEviction(ApplicationContext context) {
			return new LoadBalancerCacheEviction(context);
		}

	}

}
