import time
import pytest
pytestmark = pytest.mark.usefixtures("sample_catalogue")
API="/api/v1"
BODY = {"channel":"phone","category":"water.outage","description":"x","location":{"lat":34.27,"lon":108.952},"reporter":{"phone":"13800138000"}}
def test_t(client, login, app_container):
    t=time.perf_counter(); op=login("operator"); print("login", time.perf_counter()-t)
    for i in range(5):
        t=time.perf_counter(); r=client.post(f"{API}/cases", json=BODY, headers=op); print("intake", time.perf_counter()-t)
    cid=r.json()["id"]
    t=time.perf_counter(); v=app_container.store.stream_version(cid); print("ver", time.perf_counter()-t, v)
    t=time.perf_counter(); r=client.get(f"{API}/cases/{cid}", headers=op); print("get", time.perf_counter()-t)
    w=login("liaison", department="water")
    tid=r.json()["tasks"][0]["id"]
    t=time.perf_counter(); r=client.post(f"{API}/tasks/{tid}/sign", json={}, headers=w); print("sign", time.perf_counter()-t, r.status_code)
    g=login("liaison", department="gas")
    t=time.perf_counter(); r=client.post(f"{API}/tasks/{tid}/contact", json={"note":"x"}, headers=g); print("403", time.perf_counter()-t, r.status_code)
    t=time.perf_counter(); r=client.get(f"{API}/cases", headers=op); print("list", time.perf_counter()-t, r.status_code)
