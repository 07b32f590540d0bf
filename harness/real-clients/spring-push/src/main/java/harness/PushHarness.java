package harness;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.eurekars.spring.push.EurekaRegistryChangedEvent;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.DiscoveryClient;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import org.springframework.cloud.loadbalancer.support.LoadBalancerClientFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * The Spring application of the push tests and the end-to-end benchmark. Every stdout line of
 * its own starts with a keyword and the wall-clock time in epoch milliseconds:
 *
 * <pre>
 * READY ms id                       the context is up (the instance registers right after)
 * VIEW DC ms id,id,...              harness.watch: the DiscoveryClient's instances of the target changed
 * VIEW LB ms id,id,...              harness.watch: the load balancer's instance list changed
 * PUSH ms APP,APP version           the starter applied pushed changes
 * CALL ms OK port                   harness.call: a call answered by the instance on port
 * CALL ms FAIL port|- reason        harness.call: a call failed (the port the load balancer chose, - if none)
 * CLOSING ms                        the context started closing (SIGTERM)
 * </pre>
 */
@SpringBootApplication
@RestController
public class PushHarness {

	private static final Pattern PORT = Pattern.compile("127\\.0\\.0\\.1:(\\d+)");

	@Value("${server.port}")
	private int port;

	@Value("${eureka.instance.instance-id}")
	private String instanceId;

	@Value("${harness.watch:}")
	private String watch;

	@Value("${harness.call:}")
	private String call;

	@Value("${harness.rate:100}")
	private int rate;

	private final DiscoveryClient discovery;

	private final LoadBalancerClientFactory loadBalancers;

	private final RestClient.Builder loadBalanced;

	public PushHarness(DiscoveryClient discovery, LoadBalancerClientFactory loadBalancers,
			@LoadBalanced RestClient.Builder loadBalanced) {
		this.discovery = discovery;
		this.loadBalancers = loadBalancers;
		this.loadBalanced = loadBalanced;
	}

	public static void main(String[] args) {
		SpringApplication.run(PushHarness.class, args);
	}

	static synchronized void out(String line) {
		System.out.println(line);
		System.out.flush();
	}

	static long now() {
		return System.currentTimeMillis();
	}

	/** Answers with this instance's port, so a caller knows who served it. */
	@GetMapping("/hello")
	String hello() {
		return Integer.toString(this.port);
	}

	@EventListener
	void ready(ApplicationReadyEvent event) {
		out("READY " + now() + " " + this.instanceId);
		if (!this.watch.isEmpty()) {
			Thread t = new Thread(this::watchLoop, "harness-watch");
			t.setDaemon(true);
			t.start();
		}
		if (!this.call.isEmpty()) {
			startCalling();
		}
	}

	@EventListener
	void closing(ContextClosedEvent event) {
		if (event.getApplicationContext().getParent() == null) {
			out("CLOSING " + now());
		}
	}

	@EventListener
	void pushed(EurekaRegistryChangedEvent event) {
		out("PUSH " + now() + " " + String.join(",", event.getApplications()) + " " + event.getVersion());
	}

	private void watchLoop() {
		String dc = null;
		String lb = null;
		while (true) {
			try {
				String d = ids(this.discovery.getInstances(this.watch));
				if (!d.equals(dc)) {
					out("VIEW DC " + now() + " " + d);
					dc = d;
				}
				ServiceInstanceListSupplier supplier = this.loadBalancers.getInstance(this.watch,
						ServiceInstanceListSupplier.class);
				List<ServiceInstance> list = supplier == null ? List.of()
						: supplier.get().blockFirst(Duration.ofSeconds(2));
				String l = ids(list == null ? List.of() : list);
				if (!l.equals(lb)) {
					out("VIEW LB " + now() + " " + l);
					lb = l;
				}
				Thread.sleep(10);
			}
			catch (InterruptedException ex) {
				return;
			}
			catch (RuntimeException ex) {
				out("WATCH_ERROR " + now() + " " + ex);
				try {
					Thread.sleep(200);
				}
				catch (InterruptedException e) {
					return;
				}
			}
		}
	}

	private static String ids(List<ServiceInstance> instances) {
		List<String> ids = instances.stream().map(ServiceInstance::getInstanceId).filter(Objects::nonNull).sorted()
			.toList();
		return ids.isEmpty() ? "-" : String.join(",", ids);
	}

	/** The application's HTTP clients, apart from the controller that uses one of them. */
	@Configuration(proxyBeanMethods = false)
	static class Clients {

		/** A plain builder for everything else (the Eureka client's RestClient transport takes it). */
		@Bean
		@Primary
		RestClient.Builder plainRestClientBuilder() {
			return RestClient.builder();
		}

		@Bean
		@LoadBalanced
		RestClient.Builder loadBalancedRestClientBuilder() {
			SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
			factory.setConnectTimeout(Duration.ofSeconds(1));
			factory.setReadTimeout(Duration.ofSeconds(2));
			return RestClient.builder().requestFactory(factory);
		}

	}

	/** The port the load balancer chose for the current call of this thread (0: none yet). */
	private static final ThreadLocal<int[]> CHOSEN = ThreadLocal.withInitial(() -> new int[1]);

	private void startCalling() {
		// Appended after Spring Cloud's load-balancer interceptor, so it sees the chosen
		// instance's address: a failed call names it too (its exception names only the service).
		RestClient client = this.loadBalanced.clone().requestInterceptor((request, body, execution) -> {
			CHOSEN.get()[0] = request.getURI().getPort();
			return execution.execute(request, body);
		}).build();
		ExecutorService workers = Executors.newFixedThreadPool(16, r -> {
			Thread t = new Thread(r, "harness-call");
			t.setDaemon(true);
			return t;
		});
		ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
			Thread t = new Thread(r, "harness-ticker");
			t.setDaemon(true);
			return t;
		});
		String url = "http://" + this.call + "/hello";
		long periodMicros = 1_000_000L / Math.max(1, this.rate);
		ticker.scheduleAtFixedRate(() -> workers.execute(() -> {
			long started = now();
			CHOSEN.get()[0] = 0;
			try {
				String body = client.get().uri(url).retrieve().body(String.class);
				out("CALL " + started + " OK " + (body == null ? "-" : body.trim()));
			}
			catch (RuntimeException ex) {
				String msg = String.valueOf(ex.getMessage());
				int port = CHOSEN.get()[0];
				Matcher m = PORT.matcher(msg);
				String chosen = port > 0 ? Integer.toString(port) : m.find() ? m.group(1) : "-";
				out("CALL " + started + " FAIL " + chosen + " " + ex.getClass().getSimpleName() + ": "
						+ msg.replace('\n', ' '));
			}
		}), 0, periodMicros, TimeUnit.MICROSECONDS);
	}

}
