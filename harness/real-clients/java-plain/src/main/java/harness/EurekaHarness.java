package harness;

import com.netflix.appinfo.ApplicationInfoManager;
import com.netflix.appinfo.InstanceInfo;
import com.netflix.appinfo.InstanceInfo.InstanceStatus;
import com.netflix.appinfo.MyDataCenterInstanceConfig;
import com.netflix.appinfo.providers.EurekaConfigBasedInstanceInfoProvider;
import com.netflix.config.ConfigurationManager;
import com.netflix.discovery.DefaultEurekaClientConfig;
import com.netflix.discovery.DiscoveryClient;
import com.netflix.discovery.EurekaClient;
import com.netflix.discovery.EurekaClientConfig;
import com.netflix.discovery.shared.Application;
import com.netflix.discovery.shared.Applications;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Plain (non-Spring) Netflix eureka-client driver; the same source compiles against 1.10.x and 2.x.
 *
 * <pre>
 * args: SERVICE_URL APP_NAME PORT TARGET_APP [SECONDS]
 *   SERVICE_URL  e.g. http://127.0.0.1:8761/eureka/ (trailing slash added if missing)
 * </pre>
 *
 * Everything on stdout is one machine-readable event per line, starting with a keyword:
 * <pre>
 *   REGISTERED &lt;APP&gt; &lt;ID&gt;                      own status set to UP (registration is then sent)
 *   DISCOVERED &lt;APP&gt; &lt;ID&gt; &lt;IP&gt; &lt;PORT&gt; &lt;STATUS&gt;  each TARGET_APP instance in the client's registry
 *   NOT_DISCOVERED &lt;APP&gt;                      TARGET_APP is not in the client's registry
 *   VIP &lt;vip&gt; &lt;ID&gt;                            each UP instance of vip = lower-case TARGET_APP
 *   SELF &lt;STATUS&gt;|ABSENT                       own instance as seen in the fetched registry
 *   REMOTE &lt;region&gt; &lt;APP&gt; &lt;ID&gt; &lt;STATUS&gt;     each instance the client filed under a remote region
 *                                              (env HARNESS_REMOTE_REGIONS, comma-separated)
 *   STATUS_CHANGE &lt;STATUS&gt;                     the app changed its own status (client re-registers)
 *   OVERRIDE &lt;code&gt;                            HTTP code of PUT    .../status?value=OUT_OF_SERVICE
 *   OVERRIDE_REMOVED &lt;code&gt;                    HTTP code of DELETE .../status?value=UP
 *   SHUTDOWN                                   client.shutdown() returned (cancel was sent)
 * </pre>
 * The DISCOVERED/VIP/SELF block is printed once a second in every phase: watch (SECONDS), then
 * OUT_OF_SERVICE, UP, override, override removed (HARNESS_PHASE_SECONDS each, default 3). Client logging goes to
 * stderr (slf4j-simple). Extra archaius properties may be passed as -Dkey=value and override the
 * defaults below (e.g. -Deureka.disableDelta=true).
 */
public final class EurekaHarness {

    /** Instance config pinned to loopback so nothing depends on the machine's interfaces. */
    static final class LoopbackInstanceConfig extends MyDataCenterInstanceConfig {
        @Override public String getHostName(boolean refresh) { return "127.0.0.1"; }
        @Override public String getIpAddress() { return "127.0.0.1"; }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: SERVICE_URL APP_NAME PORT TARGET_APP [SECONDS]");
            System.exit(2);
        }
        String serviceUrl = args[0].endsWith("/") ? args[0] : args[0] + "/";
        String appName = args[1];
        int port = Integer.parseInt(args[2]);
        String targetApp = args[3].toUpperCase();
        int seconds = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        // length of each of the four later phases (status change x2, override x2); env var, default 3 s
        String phaseEnv = System.getenv("HARNESS_PHASE_SECONDS");
        int phase = phaseEnv == null || phaseEnv.isBlank() ? 3 : Integer.parseInt(phaseEnv.trim());
        String lower = appName.toLowerCase();
        String instanceId = lower + ":" + port;

        // 1. configuration (archaius 1); -D system properties win over these defaults
        Map<String, Object> defaults = Map.ofEntries(
                Map.entry("eureka.serviceUrl.default", serviceUrl),
                Map.entry("eureka.region", "default"),
                Map.entry("eureka.shouldUseDns", "false"),
                Map.entry("eureka.preferSameZone", "true"),
                Map.entry("eureka.registration.enabled", "true"),
                Map.entry("eureka.shouldFetchRegistry", "true"),
                Map.entry("eureka.client.refresh.interval", "1"),          // registry fetch (s)
                Map.entry("eureka.appinfo.replicate.interval", "1"),       // instance-info replication (s)
                Map.entry("eureka.appinfo.initial.replicate.time", "1"),   // initial registration delay (s)
                Map.entry("eureka.name", appName),
                Map.entry("eureka.instanceId", instanceId),                // default would be the hostname
                Map.entry("eureka.vipAddress", lower),
                Map.entry("eureka.secureVipAddress", lower),
                Map.entry("eureka.port", String.valueOf(port)),
                Map.entry("eureka.port.enabled", "true"),
                Map.entry("eureka.securePort.enabled", "false"),
                Map.entry("eureka.lease.renewalInterval", "1"),            // heartbeat period (s)
                Map.entry("eureka.lease.duration", "3"),                   // eviction after (s)
                Map.entry("eureka.metadata.harness", "java-plain"));
        for (Map.Entry<String, Object> e : defaults.entrySet()) {
            if (System.getProperty(e.getKey()) == null) {
                ConfigurationManager.getConfigInstance().setProperty(e.getKey(), e.getValue());
            }
        }

        // 2. instance info + client; the constructor does the first full fetch (GET apps/)
        LoopbackInstanceConfig instanceConfig = new LoopbackInstanceConfig();
        InstanceInfo myInfo = new EurekaConfigBasedInstanceInfoProvider(instanceConfig).get();
        ApplicationInfoManager aim = new ApplicationInfoManager(instanceConfig, myInfo);
        EurekaClientConfig clientConfig = new DefaultEurekaClientConfig();
        EurekaClient client = newDiscoveryClient(aim, clientConfig);
        Thread hook = new Thread(client::shutdown);          // DELETE on SIGTERM / Ctrl-C as well
        Runtime.getRuntime().addShutdownHook(hook);
        String app = myInfo.getAppName();                    // upper-cased by InstanceInfo
        String id = myInfo.getId();

        // 3. go UP -> on-demand registration (POST apps/APP)
        aim.setInstanceStatus(InstanceStatus.UP);
        out("REGISTERED " + app + " " + id);

        // 4. watch phase: long enough for a test to delete the lease behind our back
        tick(client, targetApp, app, id, seconds);

        // 5. client-driven status change: the client re-registers with the new status (POST)
        aim.setInstanceStatus(InstanceStatus.OUT_OF_SERVICE);
        out("STATUS_CHANGE OUT_OF_SERVICE");
        tick(client, targetApp, app, id, phase);
        aim.setInstanceStatus(InstanceStatus.UP);
        out("STATUS_CHANGE UP");
        tick(client, targetApp, app, id, phase);

        // 6. admin-style override (what Spring's /actuator/serviceregistry does): PUT/DELETE .../status
        String base = serviceUrl + "apps/" + app + "/" + id + "/status";
        long dirty = aim.getInfo().getLastDirtyTimestamp();
        out("OVERRIDE " + http("PUT", base + "?value=OUT_OF_SERVICE&lastDirtyTimestamp=" + dirty));
        tick(client, targetApp, app, id, phase);
        out("OVERRIDE_REMOVED " + http("DELETE", base + "?value=UP&lastDirtyTimestamp=" + dirty));
        tick(client, targetApp, app, id, phase);

        // 7. cancel (DELETE apps/APP/ID) and stop timers
        client.shutdown();
        out("SHUTDOWN");
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyExiting) {
            // ignore
        }
        System.exit(0);   // some library threads are non-daemon
    }

    /** 2.x needs an explicit transport (eureka-client-jersey3); 1.x has Jersey 1 built in. */
    static EurekaClient newDiscoveryClient(ApplicationInfoManager aim, EurekaClientConfig cfg) throws Exception {
        Class<?> jersey3;
        try {
            jersey3 = Class.forName(
                    "com.netflix.discovery.shared.transport.jersey3.Jersey3TransportClientFactories");
        } catch (ClassNotFoundException notEureka2) {
            System.err.println("harness: no Jersey3TransportClientFactories, using the 1.x constructor");
            return DiscoveryClient.class
                    .getConstructor(ApplicationInfoManager.class, EurekaClientConfig.class)
                    .newInstance(aim, cfg);
        }
        Object factories = jersey3.getMethod("getInstance").invoke(null);
        Class<?> type = Class.forName("com.netflix.discovery.shared.transport.jersey.TransportClientFactories");
        System.err.println("harness: using Jersey3TransportClientFactories (eureka-client 2.x)");
        return DiscoveryClient.class
                .getConstructor(ApplicationInfoManager.class, EurekaClientConfig.class, type)
                .newInstance(aim, cfg, factories);
    }

    /** Once a second for {@code n} seconds: print what the client's own registry shows. */
    static void tick(EurekaClient client, String targetApp, String ownApp, String ownId, int n)
            throws InterruptedException {
        for (int k = 0; k < n; k++) {
            Thread.sleep(1000);
            Application a = client.getApplication(targetApp);
            if (a == null) {
                out("NOT_DISCOVERED " + targetApp);
            } else {
                for (InstanceInfo i : a.getInstancesAsIsFromEureka()) {
                    out("DISCOVERED " + a.getName() + " " + i.getId() + " " + i.getIPAddr() + " "
                            + i.getPort() + " " + i.getStatus());
                }
            }
            String vip = targetApp.toLowerCase();
            List<InstanceInfo> byVip = client.getInstancesByVipAddress(vip, false);
            for (InstanceInfo i : byVip) {
                out("VIP " + vip + " " + i.getId());
            }
            String remote = System.getenv("HARNESS_REMOTE_REGIONS");
            for (String region : remote == null ? new String[0] : remote.split(",")) {
                Applications apps = client.getApplicationsForARegion(region.trim());
                if (apps == null) {
                    continue;
                }
                for (Application app : apps.getRegisteredApplications()) {
                    for (InstanceInfo i : app.getInstancesAsIsFromEureka()) {
                        out("REMOTE " + region.trim() + " " + app.getName() + " " + i.getId() + " "
                                + i.getStatus());
                    }
                }
            }
            Application own = client.getApplication(ownApp);
            InstanceInfo self = own == null ? null : own.getByInstanceId(ownId);
            out("SELF " + (self == null ? "ABSENT" : self.getStatus().name()));
        }
    }

    /** Returns the HTTP status code, or -1 (details on stderr) if the request failed. */
    static int http(String method, String url) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5))
                    .method(method, HttpRequest.BodyPublishers.noBody()).build();
            // HTTP/1.1 explicitly: the default client would add an h2c Upgrade offer
            HttpResponse<String> rsp = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(req, HttpResponse.BodyHandlers.ofString());
            System.err.println("harness: " + method + " " + url + " -> " + rsp.statusCode());
            return rsp.statusCode();
        } catch (Exception e) {
            System.err.println("harness: " + method + " " + url + " failed: " + e);
            return -1;
        }
    }

    static void out(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
