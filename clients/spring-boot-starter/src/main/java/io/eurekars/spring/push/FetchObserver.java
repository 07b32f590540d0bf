package io.eurekars.spring.push;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLContext;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.EurekaClientConfig;
import com.netflix.discovery.shared.Application;
import com.netflix.discovery.shared.Applications;
import com.netflix.discovery.shared.resolver.EurekaEndpoint;
import com.netflix.discovery.shared.transport.EurekaHttpClient;
import com.netflix.discovery.shared.transport.EurekaHttpResponse;
import com.netflix.discovery.shared.transport.TransportClientFactory;
import com.netflix.discovery.shared.transport.jersey.TransportClientFactories;

import org.springframework.beans.factory.config.BeanPostProcessor;

/**
 * Watches the Eureka client's own registry fetches, through its public transport interfaces:
 * wraps the {@link TransportClientFactories} bean so every {@code GET apps} and
 * {@code GET apps/delta} passes here on its way to the server.
 *
 * <p>
 * It tells {@link LocalRegistry} three things the client does not publish: that a fetch is
 * under way (a pushed change applied then could be undone by the fetch's older answer, or
 * make its hash check fail and force a full fetch), which registry version the answer held
 * (eureka-rs's {@code X-Eureka-Version}), and which server the client reads from, so the
 * stream follows the same one (versions are per server).
 */
final class FetchObserver implements BeanPostProcessor {

	/** How long after a fetch's answer the client may take to apply it before we stop waiting. */
	static final long APPLY_GRACE_NANOS = 3_000_000_000L;

	private static final String VERSION_HEADER = "X-Eureka-Version";

	/** What one answered fetch said. */
	record Fetch(String endpoint, boolean delta, long version, long answeredAt) {

		/** Whether the answer named its registry version (only eureka-rs does). */
		boolean hasVersion() {
			return this.version >= 0;
		}

	}

	private final Supplier<Long> clock;

	private int inFlight;

	private long answeredAt;

	private boolean awaitingApply;

	private Fetch last;

	private volatile Runnable onEndpointChange = () -> {
	};

	FetchObserver() {
		this(System::nanoTime);
	}

	FetchObserver(Supplier<Long> clock) {
		this.clock = clock;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof TransportClientFactories<?> factories && !(bean instanceof ObservedFactories)) {
			return new ObservedFactories<>(factories, this);
		}
		return bean;
	}

	/** The clock fetches are stamped with ({@link Fetch#answeredAt()}). */
	long now() {
		return this.clock.get();
	}

	/** Called when the client reads from another server than before. */
	void onEndpointChange(Runnable action) {
		this.onEndpointChange = action;
	}

	/**
	 * Whether a pushed change must wait: a fetch is under way, or answered and not yet applied
	 * by the client (until {@link #refreshed()} or {@link #APPLY_GRACE_NANOS}).
	 */
	synchronized boolean busy() {
		if (this.inFlight > 0) {
			return true;
		}
		if (this.awaitingApply && this.clock.get() - this.answeredAt < APPLY_GRACE_NANOS) {
			return true;
		}
		this.awaitingApply = false;
		return false;
	}

	/** The client finished applying its fetch (its cache-refreshed event). */
	synchronized void refreshed() {
		this.awaitingApply = false;
	}

	/** The newest answered fetch, or {@code null} before the first. */
	synchronized Fetch last() {
		return this.last;
	}

	synchronized void started() {
		this.inFlight++;
	}

	void answered(String endpoint, boolean delta, EurekaHttpResponse<?> response) {
		String previous;
		String now = Endpoints.normalize(endpoint);
		synchronized (this) {
			this.inFlight = Math.max(0, this.inFlight - 1);
			if (response == null || response.getStatusCode() != 200 || response.getEntity() == null) {
				return;
			}
			previous = this.last == null ? null : this.last.endpoint();
			this.answeredAt = this.clock.get();
			this.awaitingApply = true;
			this.last = new Fetch(now, delta, version(response.getHeaders()), this.answeredAt);
		}
		if (previous != null && !previous.equals(now)) {
			this.onEndpointChange.run();
		}
	}

	synchronized void failed() {
		this.inFlight = Math.max(0, this.inFlight - 1);
	}

	static long version(Map<String, String> headers) {
		if (headers == null) {
			return -1;
		}
		for (Map.Entry<String, String> h : headers.entrySet()) {
			if (VERSION_HEADER.equalsIgnoreCase(h.getKey()) && h.getValue() != null) {
				try {
					return Long.parseLong(h.getValue().trim());
				}
				catch (NumberFormatException ex) {
					return -1;
				}
			}
		}
		return -1;
	}

	/** The bean as the Eureka client sees it: the application's factories, observed. */
	static final class ObservedFactories<F> implements TransportClientFactories<F> {

		private final TransportClientFactories<F> delegate;

		private final FetchObserver observer;

		ObservedFactories(TransportClientFactories<F> delegate, FetchObserver observer) {
			this.delegate = delegate;
			this.observer = observer;
		}

		@Override
		public TransportClientFactory newTransportClientFactory(EurekaClientConfig clientConfig,
				Collection<F> additionalFilters, InstanceInfo myInstanceInfo) {
			return new ObservedFactory(
					this.delegate.newTransportClientFactory(clientConfig, additionalFilters, myInstanceInfo),
					this.observer);
		}

		@Override
		public TransportClientFactory newTransportClientFactory(EurekaClientConfig clientConfig,
				Collection<F> additionalFilters, InstanceInfo myInstanceInfo, Optional<SSLContext> sslContext,
				Optional<HostnameVerifier> hostnameVerifier) {
			return new ObservedFactory(this.delegate.newTransportClientFactory(clientConfig, additionalFilters,
					myInstanceInfo, sslContext, hostnameVerifier), this.observer);
		}

		@Override
		public String toString() {
			return "observed " + this.delegate;
		}

	}

	private record ObservedFactory(TransportClientFactory delegate, FetchObserver observer)
			implements TransportClientFactory {

		@Override
		public EurekaHttpClient newClient(EurekaEndpoint endpoint) {
			return new ObservedClient(this.delegate.newClient(endpoint), endpoint.getServiceUrl(), this.observer);
		}

		@Override
		public void shutdown() {
			this.delegate.shutdown();
		}

	}

	/** One server's client: registry reads are reported, everything else passes through. */
	private record ObservedClient(EurekaHttpClient delegate, String endpoint, FetchObserver observer)
			implements EurekaHttpClient {

		private EurekaHttpResponse<Applications> observe(boolean delta,
				Supplier<EurekaHttpResponse<Applications>> call) {
			this.observer.started();
			EurekaHttpResponse<Applications> response;
			try {
				response = call.get();
			}
			catch (RuntimeException | Error ex) {
				this.observer.failed();
				throw ex;
			}
			this.observer.answered(this.endpoint, delta, response);
			return response;
		}

		@Override
		public EurekaHttpResponse<Applications> getApplications(String... regions) {
			return observe(false, () -> this.delegate.getApplications(regions));
		}

		@Override
		public EurekaHttpResponse<Applications> getDelta(String... regions) {
			return observe(true, () -> this.delegate.getDelta(regions));
		}

		@Override
		public EurekaHttpResponse<Void> register(InstanceInfo info) {
			return this.delegate.register(info);
		}

		@Override
		public EurekaHttpResponse<Void> cancel(String appName, String id) {
			return this.delegate.cancel(appName, id);
		}

		@Override
		public EurekaHttpResponse<InstanceInfo> sendHeartBeat(String appName, String id, InstanceInfo info,
				InstanceInfo.InstanceStatus overriddenStatus) {
			return this.delegate.sendHeartBeat(appName, id, info, overriddenStatus);
		}

		@Override
		public EurekaHttpResponse<Void> statusUpdate(String appName, String id, InstanceInfo.InstanceStatus newStatus,
				InstanceInfo info) {
			return this.delegate.statusUpdate(appName, id, newStatus, info);
		}

		@Override
		public EurekaHttpResponse<Void> deleteStatusOverride(String appName, String id, InstanceInfo info) {
			return this.delegate.deleteStatusOverride(appName, id, info);
		}

		@Override
		public EurekaHttpResponse<Applications> getVip(String vipAddress, String... regions) {
			return this.delegate.getVip(vipAddress, regions);
		}

		@Override
		public EurekaHttpResponse<Applications> getSecureVip(String secureVipAddress, String... regions) {
			return this.delegate.getSecureVip(secureVipAddress, regions);
		}

		@Override
		public EurekaHttpResponse<Application> getApplication(String appName) {
			return this.delegate.getApplication(appName);
		}

		@Override
		public EurekaHttpResponse<InstanceInfo> getInstance(String appName, String id) {
			return this.delegate.getInstance(appName, id);
		}

		@Override
		public EurekaHttpResponse<InstanceInfo> getInstance(String id) {
			return this.delegate.getInstance(id);
		}

		@Override
		public void shutdown() {
			this.delegate.shutdown();
		}

	}

}
