Console.Error.WriteLine("blip-controller: not wired yet");
return 2;
