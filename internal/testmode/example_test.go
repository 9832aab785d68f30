package testmode_test

import (
	"fmt"

	"stillmotion/internal/testmode"
)

func ExampleParse() {
	s, err := testmode.Parse("generate=10s; queue=3s; poll=4:504,2:429; then=error:image_fetch_failed")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Queue, s.Generate, s.Then.Name, s.Polls[2])
	fmt.Println(s)

	_, err = testmode.Parse("queue=3s;then=done")
	fmt.Println(err)
	// Output:
	// 3s 10s image_fetch_failed 429
	// queue=3s;generate=10s;then=error:image_fetch_failed;poll=2:429,4:504
	// X-Stillmotion-Script: then="done": want completed, succeeded or error:NAME[:MESSAGE]
}
