"""Each view of the web page driven in headless Chromium against the running service: what a
person would see, checked against the API's own answers."""

from __future__ import annotations

import csv
import io

import pytest

from browser_helpers import REGIONS_ZH, expect_no_errors, platform_fonts, shot, sign_in

pytestmark = pytest.mark.browser


def test_wrong_key_shows_a_sign_in_error_and_nothing_else(page, site, shots):
    page.goto(site.url + "/")
    assert page.is_visible("#signin") and page.is_hidden("#tabs")
    assert page.get_attribute("#api-key", "type") == "password"
    sign_in(page, site, key="not-the-key")
    page.wait_for_selector("#signin-error:has-text('not accepted')")
    assert "401" in page.inner_text("#signin-error")
    assert page.is_hidden("#tabs") and page.is_hidden("#view-planner")
    assert "not-the-key" not in page.url
    assert page.evaluate("sessionStorage.getItem('forecasting.apiKey')") is None
    shot(page, shots, "signin_error")
    # the only errors are the browser's own lines about the refused requests
    assert all("401" in e for e in page.console.errors), page.console.errors
    # the right key then opens the page; signing out forgets the key
    page.fill("#api-key", site.key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#forecast-chart svg polygon")
    assert page.inner_text("#signin-error") == ""
    page.click("#signout")
    assert page.is_visible("#signin") and page.is_hidden("#view-planner")
    assert page.evaluate("sessionStorage.getItem('forecasting.apiKey')") is None


def _plan_from_api(site, pid, on_hand, lead, batch, level):
    r = site.api.post("/production/plan", json={"inventory": [
        {"product_id": pid, "on_hand": on_hand, "lead_time_days": lead, "min_batch": batch}],
        "service_level": level})
    assert r.status_code == 200, r.text
    return r.json()["rows"][0]


def _plan_row(page) -> dict[str, str]:
    cells = page.query_selector_all("#plan-table tbody td")
    return {c.get_attribute("data-field"): c.get_attribute("data-value") for c in cells}


def _band_heights(chart, band: str) -> list[float]:
    """Pixel height of a band polygon at each period (its upper edge, then its lower edge
    backwards)."""
    pts = [tuple(map(float, p.split(","))) for p in
           chart.query_selector(f"polygon[data-band='{band}']").get_attribute("points").split()]
    n = len(pts) // 2
    return [lo[1] - hi[1] for hi, lo in zip(pts[:n], reversed(pts[n:]))]


def test_planner_picks_a_product_sees_bands_and_the_plan_of_the_api(page, site, shots):
    sign_in(page, site)
    page.wait_for_selector("#forecast-chart svg polygon[data-band='95 % interval']")
    assert page.evaluate("sessionStorage.getItem('forecasting.apiKey')") == site.key
    assert site.key not in page.url
    page.fill("#product-search", "P003")
    options = page.eval_on_selector_all("#product-select option", "os => os.map(o => o.value)")
    assert options == ["P003"]
    page.select_option("#product-select", "P003")
    page.wait_for_selector("#product-title:has-text('P003')")
    assert any(zh in page.inner_text("#product-title") for zh in
               ("零部件", "工具", "包装", "原材料", "备件"))
    page.wait_for_selector("#plan-table tbody td[data-field=product_id][data-value=P003]")
    fc = site.api.post("/demand/forecast", json={"product_ids": ["P003"], "horizon": 12,
                                                  "levels": [80, 95]}).json()["points"]
    chart = page.query_selector("#forecast-chart svg")
    for band in ("95 % interval", "80 % interval"):
        poly = chart.query_selector(f"polygon[data-band='{band}']")
        assert poly is not None, band
        assert len(poly.get_attribute("points").split()) == 2 * len(fc)
        box = poly.bounding_box()
        assert box["width"] > 50 and box["height"] > 5, (band, box)
    for series in ("History", "Forecast"):
        d = chart.query_selector(f"path[data-series='{series}']").get_attribute("d")
        assert d.count("L") >= 5, series
    # each band's height is the API's interval width on one scale, and the 95 % band is
    # wider than the 80 % band
    px = {lv: _band_heights(chart, f"{lv} % interval") for lv in (80, 95)}
    width = {lv: [p["hi"][str(lv)] - p["lo"][str(lv)] for p in fc] for lv in (80, 95)}
    scale = [a / b for lv in (80, 95) for a, b in zip(px[lv], width[lv]) if b > 1e-6]
    assert scale and max(scale) == pytest.approx(min(scale), rel=1e-3)
    assert sum(width[95]) > sum(width[80]) > 0 and sum(px[95]) > sum(px[80]) > 0
    assert "80 %" in page.inner_text("#forecast-chart .legend")

    page.fill("#on-hand", "40")
    page.fill("#lead-time", "21")
    page.fill("#min-batch", "10")
    page.fill("#service-level", "0.9")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-table td[data-field=service_level][data-value='0.9']")
    want = _plan_from_api(site, "P003", 40, 21, 10, 0.9)
    got = _plan_row(page)
    for key in ("recommended_quantity", "safety_stock", "lead_time_demand_at_service_level",
                "on_hand", "lead_time_periods"):
        assert float(got[key]) == pytest.approx(want[key], rel=1e-9), key
    assert (got["stockout_date"] or None) == want["stockout_date"]
    shown = page.inner_text("#plan-table td[data-field=recommended_quantity]")
    assert float(shown.replace(",", "")) == pytest.approx(want["recommended_quantity"])

    # a higher service level updates the plan by itself (change event), as the API does
    page.fill("#service-level", "0.99")
    page.dispatch_event("#service-level", "change")
    page.wait_for_selector("#plan-table td[data-field=service_level][data-value='0.99']")
    want99 = _plan_from_api(site, "P003", 40, 21, 10, 0.99)
    got99 = _plan_row(page)
    assert float(got99["safety_stock"]) == pytest.approx(want99["safety_stock"])
    assert float(got99["recommended_quantity"]) == pytest.approx(want99["recommended_quantity"])
    assert want99["safety_stock"] > want["safety_stock"]
    shot(page, shots, "planner")

    with page.expect_download() as dl:
        page.click("#csv-download")
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    forecast_rows = [r for r in rows if r["kind"] == "forecast"]
    assert len(forecast_rows) == len(fc)
    assert float(forecast_rows[0]["yhat_hi_95"]) == pytest.approx(fc[0]["hi"]["95"])
    assert float(forecast_rows[0]["plan_recommended_quantity"]) == pytest.approx(
        want99["recommended_quantity"])
    expect_no_errors(page)


def test_account_manager_filters_the_list_and_opens_a_customer(page, site, shots):
    sign_in(page, site)
    page.click("nav button[data-view=accounts]")
    page.wait_for_selector("#customer-table tbody tr")
    everyone = site.api.get("/ui/api/customers", params={"limit": 500}).json()
    assert page.inner_text("#customer-count").startswith(f"{everyone['total']:,} customers")
    first = page.query_selector("#customer-table tbody tr")
    assert first.get_attribute("data-customer-id") == everyone["rows"][0]["customer_id"]
    assert page.query_selector("#customer-table tbody tr .badge.high, #customer-table tbody tr "
                               ".badge.medium, #customer-table tbody tr .badge.low")
    # the filters: a segment and a region in Chinese
    segment = everyone["rows"][0]["segment"]
    region = everyone["rows"][0]["region"]
    assert region in REGIONS_ZH.values()
    page.select_option("#filter-segment", segment)
    page.select_option("#filter-region", region)
    want = site.api.get("/ui/api/customers", params={"segment": segment, "region": region,
                                                      "limit": 25}).json()
    expected = [r["customer_id"] for r in want["rows"]]
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('#customer-table tbody tr')]"
        ".map(r => r.dataset.customerId)) === JSON.stringify(ids)", arg=expected)
    assert page.inner_text("#customer-count").startswith(f"{want['total']:,} customers")
    ids = page.eval_on_selector_all("#customer-table tbody tr",
                                    "rs => rs.map(r => r.dataset.customerId)")
    assert 0 < want["total"] < everyone["total"]
    assert set(page.eval_on_selector_all("#customer-table td[data-field=segment]",
                                         "cs => cs.map(c => c.textContent)")) == {segment}
    # the Chinese region is drawn with a CJK font, not boxes
    fonts = platform_fonts(page, "#customer-table tbody tr .muted")
    assert any("CJK" in f and n >= len(region) for f, n in fonts.items()), fonts
    shot(page, shots, "accounts")

    cid = ids[0]
    page.click(f"#customer-table tbody tr[data-customer-id='{cid}'] button")
    page.wait_for_selector("#customer-detail:not([hidden])")
    detail = site.api.get(f"/ui/api/customers/{cid}").json()
    assert detail["reasons"]
    shown = page.eval_on_selector_all("#customer-reasons li", "ls => ls.map(l => l.textContent)")
    assert shown == detail["reasons"] and all(len(t) > 10 for t in shown)
    assert page.inner_text("#customer-action") == detail["suggested_action"]
    assert cid in page.inner_text("#customer-title")
    assert page.query_selector("#orders-chart svg path[data-series=Revenue]")
    assert page.query_selector("#score-chart svg circle")
    assert page.inner_text("#customer-facts").count(region) == 1
    shot(page, shots, "customer")
    page.click("#back-to-list")
    assert page.is_visible("#customer-table")
    expect_no_errors(page)


def test_manager_sees_kpi_trends_and_segments(page, site, shots):
    sign_in(page, site)
    page.click("nav button[data-view=manager]")
    page.wait_for_selector("#segment-table tbody tr")
    cards = page.query_selector_all("#kpi-grid .card")
    titles = [c.query_selector("h3").inner_text() for c in cards]
    for word in ("fulfilment", "Retention", "Repurchase", "Churn", "NPS", "CSAT",
                 "by category", "resolution"):
        assert any(word in t for t in titles), word
    for c in cards:
        assert c.query_selector("svg path.line"), c.inner_text()
    categories = page.inner_text("[data-kpi='Complaints per 100 orders, by category'] .legend")
    assert "quality" in categories and "delivery" in categories
    segs = site.api.get("/ui/api/segments").json()["rows"]
    assert len(page.query_selector_all("#segment-table tbody tr")) == len(segs)
    assert sum(s["revenue_share_pct"] for s in segs) == pytest.approx(100)
    assert len(page.query_selector_all("#segment-chart rect.bar")) == len(segs)
    shot(page, shots, "manager")
    expect_no_errors(page)


def test_models_view_shows_champions_metrics_and_no_monitoring_yet(page, site, shots):
    sign_in(page, site)
    page.click("nav button[data-view=models]")
    page.wait_for_selector("[data-model=churn] table")
    info = site.api.post("/models/info", json={}).json()
    churn = next(m for m in info["models"] if m["name"] == "churn")
    assert f"champion version {churn['version']}" in page.inner_text("[data-model=churn] h3")
    text = page.inner_text("[data-model=churn] table")
    assert "holdout_roc_auc" in text and " – " in text  # an interval beside the figure
    assert "no champion" in page.inner_text("[data-model=demand] h3")
    assert "No monitoring report yet" in page.inner_text("#drift")
    shot(page, shots, "models")
    expect_no_errors(page)


def test_tablet_width_keyboard_and_labels(browser, site, shots):
    context = browser.new_context(viewport={"width": 820, "height": 1180})
    tab = context.new_page()
    try:
        sign_in(tab, site)
        tab.wait_for_selector("#forecast-chart svg polygon")
        width = tab.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], f"horizontal scroll on a tablet: {width}"
        unlabelled = tab.evaluate("""[...document.querySelectorAll('input, select')]
            .filter(e => !e.closest('[hidden]') && e.labels.length === 0
                    && !e.getAttribute('aria-label')).map(e => e.id)""")
        assert unlabelled == []
        tab.focus("nav button[data-view=planner]")
        tab.keyboard.press("Tab")
        tab.keyboard.press("Enter")  # the account manager tab, by keyboard
        tab.wait_for_selector("#customer-table tbody tr")
        assert tab.get_attribute("nav button[data-view=accounts]", "aria-current") == "page"
        shot(tab, shots, "tablet_accounts", full_page=False)
    finally:
        context.close()
