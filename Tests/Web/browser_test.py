#!/usr/bin/env python3
"""Drives encoda's web page in headless Chromium (Debian's chromium and chromium-driver, via selenium).

Called by WebPageTests.swift against a running `encoda serve`. Signs in (a wrong token first), submits a lossless
job through the form and watches its row reach `finished`, then submits a slow job, opens its job view until a
running chunk and its holder show, cancels it with the row's Cancel button and watches it reach `cancelled`.
Every wait is bounded only to stop a hung run; nothing is timed. Prints one JSON line with the two job ids.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

HANG = float(os.environ.get("ENCODA_BROWSER_HANG_SECONDS", "600"))  # seconds; only a hung run gets this far


def fail(msg):
    print("browser test: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--slow-input", required=True)
    ap.add_argument("--slow-output", required=True)
    a = ap.parse_args()
    token = open(a.token_file).read().strip()

    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="encoda-chromium-")
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=" + profile]:
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    waiter = WebDriverWait(driver, HANG, poll_frequency=0.2)

    def until(condition, what):
        try:
            return waiter.until(condition)
        except TimeoutException:
            fail("waited %d s for %s; the page says: %s" % (HANG, what() if callable(what) else what, driver.find_element(By.TAG_NAME, "body").text[:2000]))
    try:
        driver.get(a.base + "/")
        until(lambda d: d.find_element(By.ID, "signin-section").is_displayed(), "the sign-in form")
        if driver.find_element(By.ID, "app").is_displayed():
            fail("the job list shows before signing in")

        # A wrong token is refused on the page.
        field = driver.find_element(By.NAME, "token")
        field.send_keys("not-the-token-0123456789")
        driver.find_element(By.ID, "signin-button").click()
        until(lambda d: d.find_element(By.ID, "signin-error").text.strip() != "", "the wrong token to be refused")
        if "Wrong token" not in driver.find_element(By.ID, "signin-error").text:
            fail("a wrong token did not say so: " + driver.find_element(By.ID, "signin-error").text)

        driver.find_element(By.NAME, "token").send_keys(token)
        driver.find_element(By.ID, "signin-button").click()
        until(lambda d: d.find_element(By.ID, "app").is_displayed(), "the job list after signing in")
        until(lambda d: d.find_element(By.ID, "connection").text == "Live", "the event stream to connect")
        if token in driver.current_url:
            fail("the token is in the URL")
        if "encoda_session" in driver.execute_script("return document.cookie"):
            fail("the session cookie is readable by scripts (not HttpOnly)")
        session = [c for c in driver.get_cookies() if c["name"] == "encoda_session"]
        if not session or not session[0].get("httpOnly") or session[0].get("sameSite") != "Strict":
            fail("no HttpOnly SameSite=Strict session cookie: %r" % driver.get_cookies())
        if driver.find_element(By.NAME, "token").get_attribute("value"):
            fail("the token stays in the sign-in field")

        def submit(inp, out, encoder, preset, lossless):
            f = driver.find_element(By.ID, "submit")
            for name, value in [("input", inp), ("output", out), ("preset", preset), ("maxSceneLength", "1")]:
                el = f.find_element(By.NAME, name)
                el.clear()
                el.send_keys(value)
            Select(f.find_element(By.NAME, "encoder")).select_by_value(encoder)
            box = f.find_element(By.NAME, "lossless")
            if box.is_selected() != lossless:
                box.click()
            before = driver.find_element(By.ID, "submit-result").get_attribute("data-job-id")
            f.find_element(By.ID, "submit-button").click()
            until(lambda d: d.find_element(By.ID, "submit-result").get_attribute("data-job-id") not in (None, "", before)
                  or "error" in (d.find_element(By.ID, "submit-result").get_attribute("class") or ""), "an answer to submitting " + inp)
            res = driver.find_element(By.ID, "submit-result")
            job = res.get_attribute("data-job-id")
            if not job or job == before:
                fail("submitting %s was refused: %s" % (inp, res.text))
            return job

        def row(job):
            return driver.find_element(By.CSS_SELECTOR, 'tr[data-job-id="%s"]' % job)

        def state(job):
            try:
                return row(job).get_attribute("data-state")
            except Exception:
                return None

        seen = []

        def reaches(job, wanted):
            def check(_):
                s = state(job)
                if s and (not seen or seen[-1] != s):
                    seen.append(s)
                if s in ("failed", "cancelled", "finished") and s != wanted:
                    fail("job %s ended %s, not %s (states seen: %s)" % (job, s, wanted, seen))
                return s == wanted
            until(check, lambda: "job %s to reach %s (states seen: %s)" % (job, wanted, seen))

        first = submit(a.input, a.output, "h264", "ultrafast", True)
        reaches(first, "finished")
        r = row(first)
        if r.find_element(By.CSS_SELECTOR, "td.input").text != a.input.split("/")[-1]:
            fail("the row names %r, not the input" % r.find_element(By.CSS_SELECTOR, "td.input").text)
        if "100.0" not in r.find_element(By.CSS_SELECTOR, "td.progress").text:
            fail("a finished job's progress reads " + r.find_element(By.CSS_SELECTOR, "td.progress").text)
        first_states = list(seen)

        seen.clear()
        slow = submit(a.slow_input, a.slow_output, "av1", "1", False)
        until(lambda d: state(slow) == "encoding", "the slow job to encode")
        row(slow).find_element(By.XPATH, './/button[text()="View"]').click()
        view = driver.find_element(By.ID, "job-view")
        until(lambda d: view.is_displayed() and view.get_attribute("data-job-id") == slow, "the job view")
        # A running chunk and who holds it (host and process), live from the event stream.
        def holder_shown(d):
            try:
                held = d.find_elements(By.CSS_SELECTOR, "#job-running tbody tr")
                if not held:
                    return False
                cells = [c.text for c in held[0].find_elements(By.TAG_NAME, "td")]
                counted = d.find_element(By.CSS_SELECTOR, '#job-chunks tr[data-chunk-state="running"]').find_elements(By.TAG_NAME, "td")[1].text
                return cells, counted
            except StaleElementReferenceException:  # the view was redrawn by an event in between
                return False
        cells, counted = until(holder_shown, "a running chunk and its holder in the job view")
        if not cells[2] or not cells[3].isdigit():
            fail("a running chunk shows no holder: %r" % cells)
        if int(counted) < 1:
            fail("the chunk table counts no running chunk")
        cancel = row(slow).find_element(By.XPATH, './/button[text()="Cancel"]')
        if not cancel.is_enabled():
            fail("Cancel is disabled on a running job")
        cancel.click()
        reaches(slow, "cancelled")
        until(lambda d: not row(slow).find_element(By.XPATH, './/button[text()="Cancel"]').is_enabled(), "Cancel to be disabled on a cancelled job")

        # Everything the page loaded came from the server itself (no CDN, font or script from elsewhere).
        urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        foreign = [u for u in urls if not u.startswith(a.base + "/")]
        if foreign:
            fail("the page loaded from elsewhere: %r" % foreign)
        print(json.dumps({"finished": first, "cancelled": slow, "firstStates": first_states, "slowStates": seen}))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
